// Runs an external program per job (GW_EXEC_PROGRAM, default /bin/true), as
// leasehold's --exec handler does: the payload as JSON on stdin, stdout and
// stderr read to the end, success on exit status 0.
const { spawn } = require('node:child_process');

const program = process.env.GW_EXEC_PROGRAM || '/bin/true';
module.exports = (payload) => new Promise((resolve, reject) => {
  if (payload.id === 999) console.log('Found 999!');
  const child = spawn(program, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => { err = (err + d).slice(-2048); });
  child.stdin.on('error', () => {}); // the program may exit before reading its stdin
  child.stdin.end(JSON.stringify(payload));
  child.on('error', reject);
  child.on('close', (code, signal) => {
    if (code === 0) resolve();
    else reject(new Error(`${program}: ${signal ? `killed by ${signal}` : `exit status ${code}`} ${err}`));
  });
});
