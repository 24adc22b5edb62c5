/**
 * The contract every program uses to read imapd.conf and cyrus.conf.
 *
 * Owns: the types only. `imapd-conf.ts` implements `ImapdConf` (with `loadImapdConf`),
 * `cyrus-conf.ts` implements `loadCyrusConf`, `services.ts` resolves `listen=`.
 * Everything here is what other folders may rely on; change it only with all callers.
 */

/** A configuration file problem: says file, line, key and what was expected. Never a stack trace. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * imapd.conf as one program sees it: the service identity (`imap`, `lmtpunix`, `ctl_cyrusdb`...)
 * is fixed at load time, so `<service>_<option>` overrides are already applied.
 *
 * Getters take option names from the typed table (`src/config/imapoptions.ts`) and throw a
 * ConfigError for an unknown name (a programming error). Values that were not set give the
 * Cyrus 3.6 default. `{configdirectory}` in string defaults is already expanded.
 */
export interface ImapdConf {
  /** the file that was read (after -C) */
  readonly path: string;
  /** the service identity used for `<service>_<option>` overrides */
  readonly service: string;
  /** value of `configdirectory` (required; load fails without it) */
  readonly configDirectory: string;

  /** STRING/path options; null when unset with no default */
  getString(name: string): string | null;
  /** INT options */
  getInt(name: string): number;
  /** SWITCH options */
  getSwitch(name: string): boolean;
  /** ENUM/STRINGLIST options: the (normalised) value */
  getEnum(name: string): string;
  /** BITFIELD options: the set members */
  getBits(name: string): string[];
  /** DURATION options, in seconds (a bare number uses the option's legacy unit) */
  getDuration(name: string): number;
  /** BYTESIZE options, in bytes (a bare number uses the option's legacy unit) */
  getBytes(name: string): number;
  /**
   * Keys outside the table ("overflow": `partition-*`, `sasl_*`, `xlist-*`, ...):
   * `<service>_<key>` is tried first, then `<key>`. undefined when absent.
   */
  getOverflow(key: string): string | undefined;
  /** `sasl_<opt>` lookup in Cyrus order: `<service>_sasl_<opt>`, `sasl_<opt>` */
  getSasl(opt: string): string | undefined;
  /** every `partition-NAME` as NAME → path */
  partitions(): Map<string, string>;
  /** the same file read for another service identity */
  forService(service: string): ImapdConf;
  /** was the option set in the file (plain, `<service>_<opt>` or a deprecated name)? (added) */
  isSet?(name: string): boolean;
}

/** One `listen=` target after resolution. */
export type ListenAddress =
  { kind: 'tcp'; host: string | null; port: number; family: 4 | 6 | 0 } | { kind: 'unix'; path: string };

export interface StartEntry {
  name: string;
  cmd: string[];
  line: number;
}

export interface ServiceEntry {
  name: string;
  cmd: string[];
  /** the listen= value as written */
  listen: string;
  proto: 'tcp' | 'tcp4' | 'tcp6' | 'udp' | 'udp4' | 'udp6';
  prefork: number;
  /** -1 = unlimited */
  maxchild: number;
  babysit: boolean;
  maxforkrate: number;
  /** 0 = leave the inherited limit */
  maxfds: number;
  line: number;
}

export interface EventEntry {
  name: string;
  cmd: string[];
  /** minutes; 0 = once at load unless `at` */
  period: number;
  /** HHMM, or null */
  at: number | null;
  line: number;
}

export interface DaemonEntry {
  name: string;
  cmd: string[];
  wait: boolean;
  maxforkrate: number;
  maxfds: number;
  line: number;
}

export interface CyrusConf {
  path: string;
  start: StartEntry[];
  services: ServiceEntry[];
  events: EventEntry[];
  daemons: DaemonEntry[];
  /** non-fatal findings (unknown keys, ...) with file and line */
  warnings: string[];
}
