import { existsSync } from 'node:fs';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from './server';

/** Debian's Chromium (`apt-get install chromium`). No package ever downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const CHROMIUM_MISSING = `browser tests skipped: ${CHROMIUM} not found; install it with \`apt-get install chromium\``;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let warned = false;
export function warnIfChromiumMissing(): void {
  if (hasChromium || warned) return;
  warned = true;
  console.warn(CHROMIUM_MISSING);
}

export interface OfflinePage {
  page: Page;
  /** Every request (HTTP or WebSocket) the page tried to send anywhere but the allowed origin; all were aborted. */
  outside: string[];
  /** Uncaught errors thrown in the page. */
  errors: string[];
  close(): Promise<void>;
}

export interface OfflineBrowser {
  /** A page in a fresh context (no storage, no cookies) that may reach the allowed origin and nothing else. */
  open(): Promise<OfflinePage>;
  close(): Promise<void>;
}

/**
 * Headless Chromium whose pages may reach `origin` (an `http://host:port`) and nothing else: any other request
 * is aborted as if the host had no internet, and recorded. Playwright launches it with a fresh profile.
 */
export async function launchOfflineBrowser(origin: string): Promise<OfflineBrowser> {
  const allowed = (url: string) => {
    const parsed = new URL(url);
    // data: and blob: URLs (GraphiQL's inlined workers) never touch the network.
    if (parsed.protocol === 'data:' || parsed.protocol === 'blob:') return true;
    return parsed.origin === origin || parsed.origin === origin.replace(/^http/, 'ws');
  };
  // Chromium can take long to start on a busy 2-core machine (test files run side by side): a launch deadline,
  // not a measure of anything under test.
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 90_000 });
  return {
    async open() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
      const outside: string[] = [];
      const errors: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (allowed(url)) return route.continue();
        outside.push(url);
        return route.abort('internetdisconnected');
      });
      await context.routeWebSocket(
        () => true,
        (socket) => {
          if (allowed(socket.url())) {
            socket.connectToServer();
          } else {
            outside.push(socket.url());
            void socket.close({ code: 1001, reason: 'offline' });
          }
        },
      );
      // For pasting into the editors: typing into Monaco auto-closes brackets and quotes.
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(String(error)));
      return { page, outside, errors, close: () => context.close() };
    },
    close: () => browser.close(),
  };
}

/** The text of an element, with the no-break spaces Monaco renders for spaces made plain. */
export async function text(element: Locator): Promise<string> {
  return ((await element.textContent()) ?? '').replace(/\u00a0/g, ' ');
}

/** The text of a Monaco editor (its rendered lines, one after the other). */
export function editorText(editor: Locator): Promise<string> {
  return text(editor.locator('.view-lines'));
}

/** Replaces the whole content of a Monaco editor as a user would: select all, then paste. */
export async function replaceEditorText(editor: Locator, text: string): Promise<void> {
  const page = editor.page();
  // The callback runs in the page (the project's types have no DOM).
  type Clipboard = { navigator: { clipboard: { writeText(value: string): Promise<void> } } };
  await page.evaluate((value) => (globalThis as unknown as Clipboard).navigator.clipboard.writeText(value), text);
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
}

/**
 * For a suite of browser tests: a test server on SQLite (the browser part does not depend on the database) and an
 * offline browser that may reach it alone, started before the suite's tests and closed after them.
 */
export function offlineBrowserSuite(): { server: () => TestServer; browser: () => OfflineBrowser } {
  let server: TestServer | undefined;
  let browser: OfflineBrowser | undefined;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
    browser = await launchOfflineBrowser(new URL(server.url).origin);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return { server: () => server!, browser: () => browser! };
}
