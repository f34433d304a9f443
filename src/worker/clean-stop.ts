/**
 * A stop asked for with SIGTERM ends with exit code 0.
 *
 * On SIGTERM the LiveKit worker CLI drains (under `npm start`: no new calls, running calls go on
 * to their end, each job's memory flush included), closes, and then exits with 143 whatever
 * happened. Process managers read 143 as a failure (systemd without `SuccessExitStatus=143`, CI
 * steps, `docker run` wrappers). A stop that was asked for and went through the worker's own
 * shutdown is a clean stop, so 143 from that path becomes 0. Other codes pass through: the CLI
 * exits 1 when closing fails, and a second Ctrl+C still exits 130.
 */
export function exitCleanlyAfterSigterm(): void {
  let asked = false;
  process.once('SIGTERM', () => {
    asked = true;
  });
  process.on('exit', (code) => {
    // Setting exitCode in an 'exit' listener changes the code process.exit() ends with.
    if (asked && code === 143) process.exitCode = 0;
  });
}
