import { BlockList, isIP } from 'node:net';

/** The identifiers a SITE license is bound to. */
export interface SiteIdentifiers {
  domains: readonly string[];
  cidrs: readonly string[];
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;

/** Normalizes an e-mail domain, or returns null when it is not one. */
export function normalizeDomain(domain: string): string | null {
  const value = domain.trim().toLowerCase().replace(/^@/, '');
  return DOMAIN.test(value) ? value : null;
}

/** Parses `10.0.0.0/8` or `2001:db8::/32`, or returns null when it is not a CIDR range. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) return null;
  const address = match[1]!;
  const prefix = Number(match[2]);
  const version = isIP(address);
  if (version === 4 && prefix <= 32) return { address, prefix, family: 'ipv4' };
  if (version === 6 && prefix <= 128) return { address, prefix, family: 'ipv6' };
  return null;
}

export type SiteMatch = { matched: true; by: string } | { matched: false; reason: string };

/**
 * Matches what a client presents (an IP address, an e-mail address or a host name) against the site: an address
 * must fall in one of the CIDR ranges; a name's domain must be one of the domains or below one of them.
 */
export function matchSite(site: SiteIdentifiers, presented: string): SiteMatch {
  const value = presented.trim().toLowerCase();
  const version = isIP(value);
  if (version) {
    const list = new BlockList();
    for (const cidr of site.cidrs) {
      const parsed = parseCidr(cidr);
      if (parsed) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    if (list.check(value, version === 4 ? 'ipv4' : 'ipv6')) {
      const by = site.cidrs.find((cidr) => {
        const parsed = parseCidr(cidr);
        if (!parsed) return false;
        const one = new BlockList();
        one.addSubnet(parsed.address, parsed.prefix, parsed.family);
        return one.check(value, version === 4 ? 'ipv4' : 'ipv6');
      });
      return { matched: true, by: `address ${value} is in ${by}` };
    }
    return { matched: false, reason: `address ${value} is in none of the site's ranges` };
  }
  const domain = value.includes('@') ? value.slice(value.lastIndexOf('@') + 1) : value;
  const by = site.domains.find((d) => domain === d || domain.endsWith(`.${d}`));
  if (by) return { matched: true, by: `domain ${domain} belongs to ${by}` };
  return { matched: false, reason: `domain ${domain || '(none)'} is none of the site's domains` };
}
