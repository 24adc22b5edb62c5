/**
 * `sleepd`: a trivial built-in DAEMON for master's tests: logs that it runs, then waits until
 * master stops it. `sleepd --exit-after <ms>` ends by itself (status 0) after that time.
 */
import type { BuiltinDaemon } from '../master/service-api.js';

const sleepd: BuiltinDaemon = {
  run(ctx) {
    ctx.log.info(`sleepd running as ${ctx.service}`);
    const i = ctx.argv.indexOf('--exit-after');
    const after = i >= 0 ? Number(ctx.argv[i + 1]) : NaN;
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(after) ? setTimeout(resolve, after) : setInterval(() => {}, 1 << 30);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        clearInterval(timer);
        resolve();
      });
    });
  },
};
export default sleepd;
