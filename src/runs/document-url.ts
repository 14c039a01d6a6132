/**
 * Which `documentUrl`s a run may carry. The pipeline fetches the URL from inside its own network, so a URL
 * naming this network (the cloud's metadata service, a database port, this server's /metrics) would make the
 * pipeline fetch it for the caller. Refused here: anything but https (http too outside production), user
 * names and passwords, IP addresses in any notation (the URL parser turns `0x7f000001`, `2130706433` and
 * `127.1` into `127.0.0.1`), names of private DNS namespaces, hosts outside the configured allow-list, and
 * hosts that resolve to anything but public unicast addresses (loopback, private, link-local, unique-local,
 * carrier-grade NAT, metadata, reserved, NAT64 and tunnelled forms; ipaddr.js classifies them).
 *
 * This is a first check, not the guard: a name that does not resolve now is accepted (the pipeline's fetch
 * then fails and the run FAILS), and DNS answers can change between this check and the fetch. The worker must
 * apply the same rule to the address it actually connects to.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import pLimit from 'p-limit';
import { badInput } from '../errors';

const FIELD = 'input.documentUrl';
export const MAX_DOCUMENT_URL_LENGTH = 2048;

/**
 * Names that only mean something inside a network: single labels (`metadata`, `instance-data`), `localhost`,
 * and the private namespaces of RFC 6762 appendix G and RFC 8375 (`metadata.google.internal` among them).
 */
const PRIVATE_SUFFIXES = ['localhost', 'local', 'localdomain', 'internal', 'intranet', 'private', 'corp', 'home', 'lan', 'home.arpa'];

/** A lookup that has not answered by then is treated like one that failed: accepted, for the worker to decide. */
const LOOKUP_TIMEOUT_MS = 2_000;
/** Lookups run on libuv's small thread pool (shared with file and crypto work): a few at a time. */
const LOOKUP_CONCURRENCY = 4;

export interface DocumentUrlPolicy {
  /** Production: https only. */
  httpsOnly: boolean;
  /** Host names (`blob.example.com`) or suffixes (`*.example.com`); empty: any public host. */
  allowedHosts: readonly string[];
}

function isPrivateName(host: string): boolean {
  if (!host.includes('.')) return true;
  return PRIVATE_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
}

function isAllowed(host: string, allowedHosts: readonly string[]): boolean {
  if (!allowedHosts.length) return true;
  return allowedHosts.some((allowed) => (allowed.startsWith('*.') ? host.endsWith(allowed.slice(1)) : host === allowed));
}

/** Why an address is not one the pipeline may fetch from, or undefined for a public unicast address. */
export function nonPublicRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an address';
  const range = ipaddr.process(address).range(); // IPv4-mapped IPv6 is judged as the IPv4 address it maps
  return range === 'unicast' ? undefined : range;
}

/** Every address a host name resolves to, as the operating system's resolver (getaddrinfo) answers. */
export type HostLookup = (host: string) => Promise<string[]>;

const systemLookup: HostLookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

export class DocumentUrlChecker {
  /**
   * Answers kept for a while, one lookup per host at a time (lru-cache's fetch joins concurrent ones). A lookup
   * that failed or did not answer in time is kept as no addresses, for as long: a resolver that never answers
   * (as behind a strict firewall) costs one request per host and period the timeout, not every request.
   */
  private readonly resolved: LRUCache<string, string[]>;

  constructor(
    private readonly policy: DocumentUrlPolicy,
    lookupHost: HostLookup = systemLookup,
  ) {
    const lookups = pLimit(LOOKUP_CONCURRENCY);
    this.resolved = new LRUCache<string, string[]>({
      max: 1000,
      ttl: 30_000,
      fetchMethod: (host) =>
        lookups(() => {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<string[]>((resolve) => {
            timer = setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS);
            timer.unref();
          });
          return Promise.race([lookupHost(host).catch(() => []), timeout]).finally(() => clearTimeout(timer));
        }),
    });
  }

  /** The URL as it will be stored (normalised), or a BAD_USER_INPUT naming `input.documentUrl` and the reason. */
  async check(raw: string): Promise<string> {
    const url = this.parse(raw);
    const host = url.hostname;
    // No answer (the name does not resolve now, or not in time): nothing to judge here.
    for (const resolved of (await this.resolved.fetch(host)) ?? []) {
      const range = nonPublicRange(resolved);
      if (range) throw badInput(FIELD, `must name a public host: ${host} resolves to ${resolved} (${range})`);
    }
    return url.href;
  }
  /** Every check that needs no network. */
  private parse(raw: string): URL {
    const text = raw.trim();
    const length = [...text].length;
    if (length > MAX_DOCUMENT_URL_LENGTH) throw badInput(FIELD, `must be at most ${MAX_DOCUMENT_URL_LENGTH} characters (got ${length})`);
    const url = URL.canParse(text) ? new URL(text) : undefined;
    const protocols = this.policy.httpsOnly ? ['https:'] : ['https:', 'http:'];
    if (!url || !protocols.includes(url.protocol) || !url.hostname) {
      throw badInput(FIELD, this.policy.httpsOnly ? 'must be an https:// URL' : 'must be an http:// or https:// URL');
    }
    if (url.username || url.password) throw badInput(FIELD, 'must not contain a user name or password (user:pass@)');
    // `example.com.` and `example.com` are the same host: stored and compared without the root's dot.
    if (url.hostname.endsWith('.')) url.hostname = url.hostname.replace(/\.+$/, '');
    const host = url.hostname;
    if (isIP(host.replace(/^\[|\]$/g, ''))) throw badInput(FIELD, `must name its host, not an IP address (${host})`);
    if (isPrivateName(host)) throw badInput(FIELD, `must name a public host (${host} is a name inside a private network)`);
    if (!isAllowed(host, this.policy.allowedHosts)) {
      throw badInput(FIELD, `must be on one of the document hosts this server accepts (${this.policy.allowedHosts.join(', ')})`);
    }
    return url;
  }
}
