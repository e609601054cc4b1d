/**
 * Health checks of load-balanced addresses (PowerDNS's `ifportup`/`ifurlup`, Technitium's
 * Failover APP): each address of a record set with `health:` is probed at an interval by TCP
 * connect, HTTP(S) GET with an expected status, or a DNS query; after `fall` failures in a row it
 * is down, after `rise` successes in a row up again. Addresses start up (as HAProxy's servers do),
 * so answers flow from the first query; the first round of checks runs at once.
 *
 * Invariants: one scheduler and one timer for every target, unref'd (it never keeps the process
 * alive); at most one probe per target in flight; every probe has a timeout; the clock and the
 * probe are injectable (tests drive time). The same address checked the same way by several
 * record sets is one target.
 *
 * In a cluster each worker runs its own checker (the checks are cheap next to the queries, and a
 * worker never answers from another process's view that could be stale or lost with it); the
 * control endpoint's `GET /v1/health-checks` shows every worker's view.
 */
import { Socket, connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { exchange } from '../client/exchange.js';
import type { Logger } from '../logging.js';
import { rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';

export type CheckKind = 'tcp' | 'http' | 'https' | 'dns';

/** How one record set's addresses are checked (the `health:` block, with defaults applied). */
export interface HealthSpec {
  check: CheckKind;
  port: number;
  /** HTTP(S): the path asked for, the Host header / TLS server name, the status wanted, whether the certificate goes unchecked. */
  path: string;
  host: string;
  expectStatus: number;
  insecure: boolean;
  /** DNS: the question asked and the RCODE wanted. */
  queryName: Name;
  queryType: number;
  expectRcode: number;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

/** One address checked one way. */
export class HealthTarget {
  up = true;
  /** Successes / failures in a row (the other is 0). */
  successes = 0;
  failures = 0;
  checks = 0;
  failedChecks = 0;
  /** Why the last check failed ('' after a success). */
  lastError = '';
  lastCheckMs = 0;
  lastChangeMs = 0;
  nextDueMs = 0;
  running = false;
  /** Record set names using this target (for stats labels). */
  readonly names: string[] = [];

  constructor(readonly key: string, readonly address: string, readonly spec: HealthSpec) {}
}

/** Time and timers, injectable so unit tests drive the schedule. */
export interface HealthClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: HealthClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Resolves when the target is healthy; rejects with the reason otherwise. */
export type Probe = (target: HealthTarget) => Promise<void>;

/** A row of `GET /v1/health-checks` and of the stats snapshot. */
export interface HealthRow {
  names: string[];
  address: string;
  check: string;
  up: boolean;
  checks: number;
  failedChecks: number;
  lastError: string;
  /** Seconds since the last check (-1: not checked yet) and since the state last changed. */
  lastCheckAgoSec: number;
  sinceChangeSec: number;
}

export interface HealthCheckerOptions {
  logger: Logger;
  clock?: HealthClock;
  probe?: Probe;
}

export class HealthChecker {
  private readonly targets = new Map<string, HealthTarget>();
  private readonly clock: HealthClock;
  private readonly probe: Probe;
  private readonly logger: Logger;
  private timer: unknown = undefined;
  private timerDueMs = Infinity;
  private stopped = true;
  /** Bumped whenever a target goes up or down. */
  version = 0;

  constructor(opts: HealthCheckerOptions) {
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.probe = opts.probe ?? probeTarget;
  }

  get size(): number {
    return this.targets.size;
  }

  /** The target for `address` checked as `spec` (shared when another record set checks it alike). */
  target(address: string, spec: HealthSpec, name: string): HealthTarget {
    const key = `${spec.check} ${address} ${spec.port} ${spec.path} ${spec.host} ${spec.expectStatus} ${spec.insecure} ` +
      `${spec.queryName.key} ${spec.queryType} ${spec.expectRcode} ${spec.intervalMs} ${spec.timeoutMs} ${spec.rise} ${spec.fall}`;
    let t = this.targets.get(key);
    if (t === undefined) {
      t = new HealthTarget(key, address, spec);
      this.targets.set(key, t);
    }
    if (!t.names.includes(name)) t.names.push(name);
    return t;
  }

  /** Starts checking: every target at once, then each at its interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const now = this.clock.now();
    for (const t of this.targets.values()) t.nextDueMs = now;
    this.runDue();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDueMs = Infinity;
  }

  /** Keeps the state of targets `previous` also had (a reload does not make a down address up). */
  adopt(previous: HealthChecker): void {
    for (const [key, t] of this.targets) {
      const old = previous.targets.get(key);
      if (old === undefined) continue;
      t.up = old.up;
      t.successes = old.successes;
      t.failures = old.failures;
      t.checks = old.checks;
      t.failedChecks = old.failedChecks;
      t.lastError = old.lastError;
      t.lastCheckMs = old.lastCheckMs;
      t.lastChangeMs = old.lastChangeMs;
    }
  }

  /** Starts the probes that are due and arms the timer for the next one. */
  runDue(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    let next = Infinity;
    for (const t of this.targets.values()) {
      if (t.running) continue;
      if (t.nextDueMs <= now) this.run(t, now);
      else if (t.nextDueMs < next) next = t.nextDueMs;
    }
    this.arm(next);
  }

  private arm(dueMs: number): void {
    if (this.stopped || dueMs === Infinity || dueMs >= this.timerDueMs) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timerDueMs = dueMs;
    this.timer = this.clock.setTimer(this.onTimer, Math.max(0, dueMs - this.clock.now()));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerDueMs = Infinity;
    this.runDue();
  };

  private run(t: HealthTarget, now: number): void {
    t.running = true;
    let p: Promise<void>;
    try {
      p = this.probe(t);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      () => this.record(t, now, ''),
      (err: unknown) => this.record(t, now, err instanceof Error ? err.message : String(err)),
    );
  }

  /** Notes one check's result (error '' = healthy) and schedules the target's next check. */
  record(t: HealthTarget, startedMs: number, error: string): void {
    t.running = false;
    t.checks++;
    const now = this.clock.now();
    t.lastCheckMs = now;
    t.lastError = error;
    if (error === '') {
      t.successes++;
      t.failures = 0;
      if (!t.up && t.successes >= t.spec.rise) this.change(t, true, now);
    } else {
      t.failedChecks++;
      t.failures++;
      t.successes = 0;
      if (t.up && t.failures >= t.spec.fall) this.change(t, false, now);
    }
    t.nextDueMs = startedMs + t.spec.intervalMs;
    if (t.nextDueMs < now) t.nextDueMs = now;
    if (!this.stopped) this.arm(t.nextDueMs);
  }

  private change(t: HealthTarget, up: boolean, now: number): void {
    t.up = up;
    t.lastChangeMs = now;
    this.version++;
    const fields = { address: t.address, check: t.spec.check, port: t.spec.port, names: t.names, reason: t.lastError || undefined };
    if (up) this.logger.info(fields, 'health check: address is up');
    else this.logger.warn(fields, 'health check: address is down');
  }

  /** Every target's state. */
  snapshot(): HealthRow[] {
    const now = this.clock.now();
    const rows: HealthRow[] = [];
    for (const t of this.targets.values()) {
      rows.push({
        names: [...t.names], address: t.address, check: `${t.spec.check}:${t.spec.port}`, up: t.up, checks: t.checks,
        failedChecks: t.failedChecks, lastError: t.lastError,
        lastCheckAgoSec: t.checks === 0 ? -1 : Math.round((now - t.lastCheckMs) / 1000),
        sinceChangeSec: Math.round((now - (t.lastChangeMs || now)) / 1000),
      });
    }
    return rows;
  }
}

/** The real probes. */
export function probeTarget(t: HealthTarget): Promise<void> {
  switch (t.spec.check) {
    case 'tcp':
      return probeTcp(t.address, t.spec.port, t.spec.timeoutMs);
    case 'http':
    case 'https':
      return probeHttp(t);
    case 'dns':
      return probeDns(t);
  }
}

function probeTcp(address: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host: address, port });
    s.setTimeout(timeoutMs);
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('timeout', () => {
      s.destroy();
      reject(new Error(`no TCP connection within ${timeoutMs} ms`));
    });
    s.once('error', (err) => {
      s.destroy();
      reject(new Error(`TCP connect failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
  });
}

function probeHttp(t: HealthTarget): Promise<void> {
  const spec = t.spec;
  return new Promise((resolve, reject) => {
    const opts = {
      host: t.address, port: spec.port, path: spec.path, method: 'GET', timeout: spec.timeoutMs, agent: false,
      headers: { host: spec.host, 'user-agent': 'sovereign-health-check' },
      ...(spec.check === 'https' ? { servername: spec.host, rejectUnauthorized: !spec.insecure } : {}),
    } as const;
    const req = (spec.check === 'https' ? httpsRequest : httpRequest)(opts, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      req.destroy();
      if (status === spec.expectStatus) resolve();
      else reject(new Error(`HTTP status ${status}, expected ${spec.expectStatus}`));
    });
    req.once('timeout', () => req.destroy(new Error(`no HTTP answer within ${spec.timeoutMs} ms`)));
    req.once('error', (err) => reject(new Error(`HTTP check failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    req.end();
  });
}

async function probeDns(t: HealthTarget): Promise<void> {
  const spec = t.spec;
  const q = Message.query(spec.queryName, spec.queryType, { rd: false });
  const r = await exchange(q, { address: t.address, port: spec.port }, { timeoutMs: spec.timeoutMs });
  if (r.message.rcode !== spec.expectRcode) {
    throw new Error(`DNS answered ${rcodeToString(r.message.rcode)}, expected ${rcodeToString(spec.expectRcode)}`);
  }
}
