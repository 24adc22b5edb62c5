/**
 * A session's logger: every line carries `session=<id>`.
 *
 * Owns: `SessionLog`, a `Logger` whose methods live on the prototype and forward to the
 * worker's logger with the prefix — one small object per connection instead of a child
 * logger's set of closures (memory per idle connection, issue #5).
 * Imports: the Logger contract.
 */
import type { Logger } from '../../log/logger.js';

export class SessionLog implements Logger {
  constructor(
    private readonly base: Logger,
    private readonly prefix: string,
  ) {}

  get ident(): string {
    return this.base.ident;
  }
  debug(msg: string): void {
    this.base.debug(this.prefix + msg);
  }
  info(msg: string): void {
    this.base.info(this.prefix + msg);
  }
  notice(msg: string): void {
    this.base.notice(this.prefix + msg);
  }
  warning(msg: string): void {
    this.base.warning(this.prefix + msg);
  }
  error(msg: string): void {
    this.base.error(this.prefix + msg);
  }
  crit(msg: string): void {
    this.base.crit(this.prefix + msg);
  }
  child(prefix: string): Logger {
    return this.base.child(`${this.prefix}${prefix}`);
  }
}
