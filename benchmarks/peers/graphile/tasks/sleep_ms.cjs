// Sleeps payload.ms milliseconds with setTimeout: the process's event loop
// stays free, so up to concurrentJobs of these wait at once, as leasehold's
// blocking `sleep` handlers do on their handler threads. (A synchronous sleep
// would block the whole process and allow one job at a time.)
module.exports = ({ id, ms }) => {
  if (id === 999) console.log('Found 999!');
  return new Promise((resolve) => setTimeout(resolve, ms));
};
