/**
 * The progress bar on stderr while a run goes on, so stdout carries only the report. On a
 * terminal it redraws one line; elsewhere (CI logs, tests) it prints a line per phase.
 */

export interface Progress {
  /** Adds work to the total (a scenario announces its turns when it starts). */
  plan(units: number): void;
  /** Names what runs now. */
  phase(label: string): void;
  tick(units?: number): void;
  done(): void;
}

export const silentProgress: Progress = { plan() {}, phase() {}, tick() {}, done() {} };

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  const tty = stream.isTTY === true;
  let total = 0;
  let done = 0;
  let label = '';
  let timer: NodeJS.Timeout | undefined;

  const line = (): string => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const bar = 28;
    const filled = Math.round(frac * bar);
    return `[${'#'.repeat(filled)}${'-'.repeat(bar - filled)}] ${String(Math.round(frac * 100)).padStart(3)}% ${clock(Date.now() - started)}  ${label}`;
  };
  // A pseudo-terminal can report 0 columns.
  const width = (): number => Math.max(40, stream.columns || 100) - 1;
  const draw = (): void => {
    if (!tty) return;
    stream.write(`\r${line().slice(0, width()).padEnd(width())}`);
  };
  if (tty) {
    timer = setInterval(draw, 500);
    timer.unref();
  }
  return {
    plan(units) {
      total += units;
      draw();
    },
    phase(next) {
      label = next;
      if (tty) draw();
      else stream.write(`bench: ${clock(Date.now() - started)} ${next}\n`);
    },
    tick(units = 1) {
      done += units;
      draw();
    },
    done() {
      clearInterval(timer);
      if (tty) stream.write(`\r${' '.repeat(width())}\r`);
      stream.write(`bench: finished in ${clock(Date.now() - started)}\n`);
    },
  };
}
