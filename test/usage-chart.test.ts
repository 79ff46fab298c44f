import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, hasChromium, offlineBrowserSuite, warnIfChromiumMissing } from './support/browser';
import { issueToken, licensed, organization, unique } from './support/factories';
import { denials, samples } from './support/usage-history';

warnIfChromiumMissing();

const DAY = 86_400_000;
const TITLE = 'the usage chart in headless Chromium, with no internet';

/** What the page exposes of the chart it drew: the series' labels and columns. */
type Drawn = { labels: string[]; data: (number | null)[][]; thresholds: number[] } | null;

describe.skipIf(!hasChromium)(hasChromium ? TITLE : `${TITLE} (${CHROMIUM_MISSING})`, () => {
  const suite = offlineBrowserSuite();

  it('draws each license’s daily peak against its limit, the thresholds and the denials, for a seeded organization', async () => {
    const server = suite.server();
    const org = await organization(server, unique('chart-org'));
    const today = Math.floor(server.clock.now().getTime() / DAY) * DAY;
    const day = (n: number) => today - n * DAY;
    const a = await licensed(server, 'CONCURRENT', { organizationId: org.id, limits: { concurrentSessions: 10 } });
    const b = await licensed(server, 'CONCURRENT', { organizationId: org.id, limits: { concurrentSessions: 20 } });
    // A: 5 sessions 29 days ago, 9 at most 10 days ago (its last 4), 10 at most 3 days ago, when 2 were turned away.
    await samples(server, a, 'CONCURRENT_SESSIONS', [
      { day: day(29), samples: 1, sum: 5, max: 5, last: 5 },
      { day: day(10), samples: 2, sum: 13, max: 9, last: 4 },
      { day: day(3), samples: 2, sum: 18, max: 10, last: 8 },
    ]);
    await denials(server, a, 'CONCURRENT_SESSIONS', [{ day: day(3), denials: 2, retries: 0 }]);
    // B: 4 of 20 all month.
    await samples(server, b, 'CONCURRENT_SESSIONS', [{ day: day(40), samples: 1, sum: 4, max: 4, last: 4 }]);
    const reader = await issueToken(server, 'AUDITOR', org.id);

    const { page, outside, errors, close } = await suite.browser().open();
    try {
      const response = await page.goto(`${server.url.replace(/\/graphql$/, '')}/reports/usage`);
      expect(response?.headers()['content-type']).toContain('text/html');
      await page.fill('#token', reader.secret);
      await page.click('#connect');
      await page.locator('#organization option').first().waitFor({ state: 'attached' });
      expect(await page.locator('#organization').inputValue()).toBe(org.id);
      await page.selectOption('#days', '30');
      await page.click('#draw');
      await page.waitForSelector('body[data-state="drawn"]', { timeout: 15_000 });
      await page.locator('#chart canvas').waitFor({ state: 'visible' });

      const drawn = (await page.evaluate('window.usageChart')) as Drawn;
      const labels = [
        `CONCURRENT plan …${a.licenseId.slice(-6)}`,
        `CONCURRENT plan …${b.licenseId.slice(-6)}`,
        '80 %',
        '90 %',
        '100 %',
        'denials',
      ];
      expect(drawn!.labels).toEqual(labels);
      const [days, ofA, ofB, t80, , t100, denied] = drawn!.data;
      // 30 days, today's last: A's peaks in percent of 10 (carried between changes), B's of 20.
      expect(days).toHaveLength(30);
      expect(days!.at(-1)).toBe(today / 1000);
      const expectedA = Array.from({ length: 30 }, (_, i) => {
        const n = 29 - i;
        return n > 10 ? 50 : n === 10 ? 90 : n > 3 ? 40 : n === 3 ? 100 : 80;
      });
      expect(ofA).toEqual(expectedA);
      expect(ofB).toEqual(Array.from({ length: 30 }, () => 20));
      expect(t80!.every((v) => v === 80) && t100!.every((v) => v === 100)).toBe(true);
      // One denial, marked where it happened, at A's peak that day.
      expect(denied!.map((v, i) => (v === null ? null : [29 - i, v])).filter(Boolean)).toEqual([[3, 100]]);

      const screenshot = join(tmpdir(), 'usage-chart.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`usage chart screenshot: ${screenshot}`);
      expect(outside, 'requests to other origins').toEqual([]);
      expect(errors, 'uncaught errors in the page').toEqual([]);
    } finally {
      await close();
    }
  });

  it('serves the charting library from the server, cacheable, and nothing else under its path', async () => {
    const origin = new URL(suite.server().url).origin;
    const script = await fetch(`${origin}/reports/assets/uPlot.iife.min.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(script.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(await script.text()).toContain('uPlot');
    expect((await fetch(`${origin}/reports/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${origin}/reports/assets/uPlot.cjs.js`)).status).toBe(404);
  });
});
