import { isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `none` is the explicit empty list (an empty variable means "use the default"). */
const NONE = 'none';

/** Parses `10.0.0.0/8, fd00::/8, 192.0.2.7` (a bare address is a single host); null when any entry is invalid. */
export function parseCidrList(text: string): Cidr[] | null {
  if (text.trim().toLowerCase() === NONE) return [];
  const cidrs: Cidr[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [address, prefixText, ...rest] = entry.split('/');
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return null;
    const max = version === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= max)) return null;
    cidrs.push({ address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' });
  }
  return cidrs;
}

export function isCidrList(value: unknown): boolean {
  return typeof value === 'string' && parseCidrList(value) !== null;
}
