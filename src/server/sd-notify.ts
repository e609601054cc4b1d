/**
 * Readiness for systemd (Type=notify): sd_notify(3) sends `READY=1` as one datagram on the
 * AF_UNIX socket named by NOTIFY_SOCKET. Node has no AF_UNIX datagram sockets, so the datagram
 * is sent by systemd-notify(1), told our PID (`--pid`, so MAINPID stays ours) and waiting on
 * systemd's barrier (its default), which makes the message count even though the sender is a
 * short-lived child; the unit therefore needs NotifyAccess=all (contrib/sovereign.service).
 */
import { spawn } from 'node:child_process';
import { ServerError } from '../errors.js';

/** Sends `state` (e.g. `READY=1`, `STOPPING=1`) to the socket `notifySocket`; resolves when sent. */
export function sdNotify(notifySocket: string, state: string, bin = 'systemd-notify'): Promise<void> {
  const args = state === 'READY=1' ? ['--ready', `--pid=${process.pid}`] : [`--pid=${process.pid}`, state];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: notifySocket } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => reject(err));
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new ServerError(`${bin} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}
