import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { Cidr } from '../config/cidr-list.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';

export type AddressLookup = (host: string) => Promise<string[]>;

const lookupAll: AddressLookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function blockList(cidrs: Cidr[]): BlockList {
  const list = new BlockList();
  for (const { address, prefix, family } of cidrs) list.addSubnet(address, prefix, family);
  return list;
}

/** "This host": connecting to an unspecified address reaches loopback, so it is never a target. */
const UNSPECIFIED = blockList([
  { address: '0.0.0.0', prefix: 8, family: 'ipv4' },
  { address: '::', prefix: 128, family: 'ipv6' },
]);
const IPV6_LOOPBACK = blockList([{ address: '::1', prefix: 128, family: 'ipv6' }]);
const IPV4_LOOPBACK = '127.0.0.1';

const INET_ATON_PART = /^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$/i;

/**
 * The dotted IPv4 address an inet_aton spelling (`0x0`, `0177.1`, `2130706433`) stands for, as the
 * resolver reads it; null when `host` is not one. A part with fewer than four dots fills the low bytes.
 */
export function inetAton(host: string): string | null {
  const parts = host.split('.');
  if (parts.length > 4 || !parts.every((part) => INET_ATON_PART.test(part))) return null;
  const values = parts.map((part) => (/^0x/i.test(part) ? Number.parseInt(part.slice(2) || '0', 16) : /^0./.test(part) ? Number.parseInt(part, 8) : Number(part)));
  const last = values.pop() as number;
  if (values.some((value) => value > 255) || last >= 2 ** (8 * (4 - values.length))) return null;
  const number = values.reduce((sum, value, i) => sum + value * 2 ** (8 * (3 - i)), 0) + last;
  return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join('.');
}

/**
 * SSH_TARGET_ALLOW / SSH_TARGET_DENY: which addresses the service may open SSH connections to, so a
 * token holder cannot aim it at cloud metadata or internal ports. Checked on the resolved address,
 * which is then the one connected to: DNS cannot answer differently between check and connect.
 */
export class TargetPolicy {
  private readonly allow: BlockList | null;
  private readonly deny: BlockList;

  constructor(targets: { allow: Cidr[] | null; deny: Cidr[] }, private readonly lookupAddresses: AddressLookup = lookupAll) {
    this.allow = targets.allow ? blockList(targets.allow) : null;
    this.deny = blockList(targets.deny);
  }

  /**
   * Whether an IP address may be connected to: never an unspecified address; deny wins over allow;
   * IPv4-mapped IPv6 counts as IPv4 and `::1` as `127.0.0.1` too (a loopback rule covers both).
   */
  permits(address: string): boolean {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (UNSPECIFIED.check(address, family)) return false;
    const loopback = family === 'ipv6' && IPV6_LOOPBACK.check(address, family);
    const listed = (list: BlockList) => list.check(address, family) || (loopback && list.check(IPV4_LOOPBACK, 'ipv4'));
    if (listed(this.deny)) return false;
    return this.allow === null || listed(this.allow);
  }

  /**
   * An IP literal (or inet_aton spelling such as `0x0`) the policy refuses, so that create/patch can
   * refuse it; host names are checked at connect.
   */
  refusesLiteral(host: string): boolean {
    const address = isIP(host) !== 0 ? host : inetAton(host);
    return address !== null && !this.permits(address);
  }

  /**
   * The first address of `host` the policy permits.
   * @throws SshPoolError SSH_TARGET_FORBIDDEN when every address is refused; SSH_UNREACHABLE when the name does not resolve.
   */
  async resolve(host: string, where: string): Promise<string> {
    const addresses = isIP(host) !== 0 ? [host] : await this.lookup(host, where);
    const permitted = addresses.find((address) => this.permits(address));
    if (permitted === undefined) {
      throw new SshPoolError(SshPoolErrorCode.TARGET_FORBIDDEN, `${where}: the host's address is not allowed as an SSH target (SSH_TARGET_ALLOW/SSH_TARGET_DENY)`);
    }
    return permitted;
  }

  private async lookup(host: string, where: string): Promise<string[]> {
    try {
      return await this.lookupAddresses(host);
    } catch {
      throw new SshPoolError(SshPoolErrorCode.UNREACHABLE, `cannot reach ${where}`);
    }
  }
}
