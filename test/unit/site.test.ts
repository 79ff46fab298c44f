import { describe, expect, it } from 'vitest';
import { matchSite, normalizeDomain, parseCidr, type SiteIdentifiers } from '../../src/modules/license/site';

const site: SiteIdentifiers = {
  domains: ['example.com', 'corp.example.org'],
  cidrs: ['10.20.0.0/16', '192.168.1.128/25', '2001:db8::/32'],
};

describe('normalizeDomain', () => {
  it('lower-cases, trims and drops a leading @', () => {
    expect(normalizeDomain('Example.COM')).toBe('example.com');
    expect(normalizeDomain('  example.com  ')).toBe('example.com');
    expect(normalizeDomain('@mail.example.com')).toBe('mail.example.com');
  });

  it('accepts multi-label and punycode domains', () => {
    expect(normalizeDomain('eu.mail.example.co.uk')).toBe('eu.mail.example.co.uk');
    expect(normalizeDomain('xn--bcher-kva.de')).toBe('xn--bcher-kva.de');
    expect(normalizeDomain('a-b.example.com')).toBe('a-b.example.com');
  });

  it('refuses what is not a domain name', () => {
    for (const bad of [
      '',
      'localhost',
      'example',
      'ex_ample.com',
      '-example.com',
      'example-.com',
      'example..com',
      'example.com.',
      '*.example.com',
      'user@example.com',
      'exa mple.com',
      '10.20.0.1',
      'example.123',
      `${'a'.repeat(64)}.com`,
      `${'abcdefghi.'.repeat(26)}com`,
    ]) {
      expect(normalizeDomain(bad), bad).toBeNull();
    }
  });
});

describe('parseCidr', () => {
  it('parses IPv4 ranges', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('192.168.1.7/32')).toEqual({ address: '192.168.1.7', prefix: 32, family: 'ipv4' });
    expect(parseCidr('0.0.0.0/0')).toEqual({ address: '0.0.0.0', prefix: 0, family: 'ipv4' });
    expect(parseCidr(' 10.20.0.0/16 ')).toEqual({ address: '10.20.0.0', prefix: 16, family: 'ipv4' });
  });

  it('parses IPv6 ranges', () => {
    expect(parseCidr('2001:db8::/32')).toEqual({ address: '2001:db8::', prefix: 32, family: 'ipv6' });
    expect(parseCidr('::1/128')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    expect(parseCidr('::/0')).toEqual({ address: '::', prefix: 0, family: 'ipv6' });
  });

  it('refuses prefixes beyond the address length, bare addresses and garbage', () => {
    for (const bad of [
      '10.0.0.0/33',
      '2001:db8::/129',
      '10.0.0.0',
      '10.0.0.0/',
      '/8',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '10.0.0.0 /8',
      '256.0.0.0/8',
      '10.0.0/8',
      'example.com/8',
      '10.0.0.0/1000',
      '',
    ]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });
});

describe('matchSite', () => {
  it('matches an IPv4 address inside a range, naming the range', () => {
    expect(matchSite(site, '10.20.3.4')).toEqual({ matched: true, by: 'address 10.20.3.4 is in 10.20.0.0/16' });
    expect(matchSite(site, '10.20.255.255')).toMatchObject({ matched: true });
    expect(matchSite(site, '192.168.1.200')).toEqual({ matched: true, by: 'address 192.168.1.200 is in 192.168.1.128/25' });
  });

  it('refuses an IPv4 address just outside every range', () => {
    expect(matchSite(site, '10.21.0.1')).toEqual({ matched: false, reason: "address 10.21.0.1 is in none of the site's ranges" });
    expect(matchSite(site, '10.19.255.255').matched).toBe(false);
    expect(matchSite(site, '192.168.1.127').matched).toBe(false);
  });

  it('matches IPv6 addresses by their range, case-insensitively', () => {
    expect(matchSite(site, '2001:db8::1')).toEqual({ matched: true, by: 'address 2001:db8::1 is in 2001:db8::/32' });
    expect(matchSite(site, '2001:DB8:FFFF::42').matched).toBe(true);
    expect(matchSite(site, '2001:db9::1').matched).toBe(false);
    expect(matchSite(site, '::1').matched).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 address against the IPv4 ranges', () => {
    expect(matchSite(site, '::ffff:10.20.0.5').matched).toBe(true);
    expect(matchSite(site, '::ffff:10.21.0.5').matched).toBe(false);
  });

  it('matches no address when the site has only domains', () => {
    expect(matchSite({ domains: ['example.com'], cidrs: [] }, '10.20.0.1').matched).toBe(false);
  });

  it('matches an e-mail address by its domain, whatever its case and surrounding spaces', () => {
    expect(matchSite(site, 'ada@example.com')).toEqual({ matched: true, by: 'domain example.com belongs to example.com' });
    expect(matchSite(site, '  Ada@EXAMPLE.com ')).toMatchObject({ matched: true });
    expect(matchSite(site, 'grace@corp.example.org')).toMatchObject({ matched: true });
  });

  it('matches subdomains of a domain, at any depth', () => {
    expect(matchSite(site, 'ada@eu.example.com')).toEqual({ matched: true, by: 'domain eu.example.com belongs to example.com' });
    expect(matchSite(site, 'ada@a.b.c.example.com').matched).toBe(true);
    expect(matchSite(site, 'build.eu.corp.example.org').matched).toBe(true);
  });

  it('matches a bare host name as well as an e-mail address', () => {
    expect(matchSite(site, 'example.com').matched).toBe(true);
    expect(matchSite(site, 'intranet.example.com').matched).toBe(true);
  });

  it('does not match lookalike domains', () => {
    for (const lookalike of [
      'ada@notexample.com',
      'ada@example.com.evil.org',
      'ada@example.co',
      'ada@examplecom',
      'ada@xexample.com',
      'ada@example.org',
      'ada@example-com.net',
      'example.com.evil.org',
    ]) {
      expect(matchSite(site, lookalike).matched, lookalike).toBe(false);
    }
  });

  it('does not match the parent of a subdomain the site holds', () => {
    expect(matchSite(site, 'ada@example.org').matched).toBe(false);
    expect(matchSite(site, 'ada@other.example.org').matched).toBe(false);
  });

  it('reads the domain after the last @', () => {
    expect(matchSite(site, 'ada@evil.org@example.com').matched).toBe(true);
    expect(matchSite(site, 'ada@example.com@evil.org').matched).toBe(false);
  });

  it('explains a mismatch with the domain it saw, or (none)', () => {
    expect(matchSite(site, 'ada@evil.org')).toEqual({ matched: false, reason: "domain evil.org is none of the site's domains" });
    expect(matchSite(site, 'ada@')).toEqual({ matched: false, reason: "domain (none) is none of the site's domains" });
    expect(matchSite(site, '')).toEqual({ matched: false, reason: "domain (none) is none of the site's domains" });
  });

  it('does not take a CIDR range or a URL for an address in it', () => {
    expect(matchSite(site, '10.20.0.0/16').matched).toBe(false);
    expect(matchSite(site, 'https://example.com').matched).toBe(false);
  });

  it('matches nothing against an empty site', () => {
    const empty: SiteIdentifiers = { domains: [], cidrs: [] };
    expect(matchSite(empty, '10.20.0.1').matched).toBe(false);
    expect(matchSite(empty, 'ada@example.com').matched).toBe(false);
  });
});
