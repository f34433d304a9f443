/** Whether the fixed ports `npm run local` needs are free, checked by binding them for a moment. */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { PortNeed } from './plan.ts';

function portFree(need: PortNeed): Promise<boolean> {
  return new Promise((resolve) => {
    if (need.protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(need.port, need.host, () => s.close(() => resolve(true)));
    } else {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(need.port, need.host, () => s.close(() => resolve(true)));
    }
  });
}

export async function portsInUse(wanted: PortNeed[]): Promise<PortNeed[]> {
  const busy: PortNeed[] = [];
  for (const n of wanted) if (!(await portFree(n))) busy.push(n);
  return busy;
}
