import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  CHROMIUM_MISSING,
  editorText,
  hasChromium,
  offlineBrowserSuite,
  replaceEditorText,
  text,
  warnIfChromiumMissing,
} from './support/browser';
import { RecordUsageDocument } from './generated/graphql';
import { licensed, organization, unique } from './support/factories';

warnIfChromiumMissing();

/** Puts the token in the playground's Headers tab, as an administrator does. */
async function sendToken(page: Page, token: string): Promise<void> {
  await page.locator('.graphiql-editor-tools button[data-name="headers"]').click();
  const headersEditor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor');
  const headers = JSON.stringify({ Authorization: `Bearer ${token}` });
  await replaceEditorText(headersEditor, headers);
  await expect.poll(() => editorText(headersEditor)).toBe(headers);
}

const TITLE = 'the GraphiQL playground in headless Chromium, with no internet';
const QUERY = 'query Organizations { organizations { nodes { id name } } }';

describe.skipIf(!hasChromium)(hasChromium ? TITLE : `${TITLE} (${CHROMIUM_MISSING})`, () => {
  const suite = offlineBrowserSuite();

  it('renders, runs a query with the token from the headers editor, and requests nothing from another origin', async () => {
    const server = suite.server();
    const { name } = await organization(server, unique('playground-org'));
    const { page, outside, errors, close } = await suite.browser().open();
    try {
      const response = await page.goto(server.url);
      expect(response?.headers()['content-type']).toContain('text/html');
      expect(await page.title()).toBe('AINexLayer License Manager');
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor');
      await queryEditor.waitFor({ state: 'visible', timeout: 10_000 });

      await sendToken(page, server.admin);

      await replaceEditorText(queryEditor, QUERY);
      await expect.poll(() => editorText(queryEditor)).toBe(QUERY);
      // GraphiQL takes in an edit after a short debounce: the tab is named after the operation once it has.
      await expect.poll(() => text(page.locator('.graphiql-tab-active'))).toBe('Organizations');
      await page.locator('.graphiql-execute-button').click();

      const result = page.locator('.graphiql-response .result-window');
      await expect.poll(() => text(result), { timeout: 10_000 }).toContain(name);
      const shown = await text(result);
      expect(shown).toContain('"data"');
      expect(shown).not.toContain('"errors"');
      await page.screenshot({ path: '/tmp/playground.png' });

      expect(outside, 'requests to other origins').toEqual([]);
      expect(errors, 'uncaught errors in the page').toEqual([]);
    } finally {
      await close();
    }
  });

  // GraphiQL mirrors the edited query into the address as `?query=...`: a reload or a shared link must still
  // get the playground, not Apollo's landing page (which loads Sandbox from a CDN).
  it('is served again on reload once a query was edited (the address then carries ?query=)', async () => {
    const server = suite.server();
    const { page, outside, close } = await suite.browser().open();
    try {
      await page.goto(`${server.url}?query=${encodeURIComponent(QUERY)}`);
      expect(await page.title()).toBe('AINexLayer License Manager');
      expect(outside, 'requests to other origins').toEqual([]);
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor');
      await queryEditor.waitFor({ state: 'visible', timeout: 10_000 });
      await expect.poll(() => editorText(queryEditor)).toBe(QUERY);
    } finally {
      await close();
    }
  });

  it('runs a subscription with the token from the headers editor and shows a live alert', async () => {
    const server = suite.server();
    const { key, licenseId } = await licensed(server, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const subscription = `subscription Alerts { alertRaised(filter: { licenseId: "${licenseId}" }) { licenseId threshold severity } }`;
    const { page, outside, errors, close } = await suite.browser().open();
    try {
      await page.goto(server.url);
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor');
      await queryEditor.waitFor({ state: 'visible', timeout: 10_000 });
      await sendToken(page, server.admin);
      await replaceEditorText(queryEditor, subscription);
      await expect.poll(() => text(page.locator('.graphiql-tab-active'))).toBe('Alerts');
      await page.locator('.graphiql-execute-button').click();

      // Once the subscription is live, a usage report raises the alert it shows.
      const result = page.locator('.graphiql-response .result-window');
      await new Promise((r) => setTimeout(r, 1_000));
      await server.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 850 }, null);
      await expect.poll(() => text(result), { timeout: 10_000 }).toContain('"threshold": 80');
      const shown = await text(result);
      expect(shown).toContain(licenseId);
      expect(shown).not.toContain('"errors"');
      await page.screenshot({ path: '/tmp/playground-subscription.png' });
      expect(outside, 'requests to other origins').toEqual([]);
      expect(errors, 'uncaught errors in the page').toEqual([]);
    } finally {
      await close();
    }
  });
});
