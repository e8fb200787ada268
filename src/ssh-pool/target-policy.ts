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

  /** Whether an IP address may be connected to (deny wins over allow; IPv4-mapped IPv6 counts as IPv4). */
  permits(address: string): boolean {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.deny.check(address, family)) return false;
    return this.allow === null || this.allow.check(address, family);
  }

  /** An IP literal the policy refuses, so that create/patch can refuse it; host names are checked at connect. */
  refusesLiteral(host: string): boolean {
    return isIP(host) !== 0 && !this.permits(host);
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
