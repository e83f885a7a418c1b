// Drives the dashboard's queue buttons in headless Chromium, as an operator
// would: node queue_buttons.mjs URL QUEUE TOKEN STEP. Steps: "refused"
// clicks pause with a wrong token; "pause" and "resume" type the token and
// click. Prints the page's answer (#action) and the queue's row after it.
import puppeteer from 'puppeteer-core';

const [url, queue, token, step] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic'],
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  const button = `#queue-states button[data-queue="${queue}"]`;
  await page.waitForSelector(button, {timeout: 10000});
  await page.type('#token', step === 'refused' ? 'not-the-token' : token);
  await page.click(button);
  await page.waitForFunction(() => document.getElementById('action').textContent !== '',
                             {timeout: 10000});
  // The table is drawn again after the action: wait for the new row.
  await new Promise(r => setTimeout(r, 500));
  const action = await page.$eval('#action', e => e.textContent);
  const row = await page.$eval(button, b => b.closest('tr').textContent);
  console.log(JSON.stringify({action, row}));
} finally {
  await browser.close();
}
