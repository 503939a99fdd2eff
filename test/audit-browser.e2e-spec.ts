import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { AuditWriter } from '../plugins/audit/audit.writer.js';
import {
  browserMissing,
  itWithBrowser,
  launchChromium,
  screenshot,
  watchedPage,
} from './helpers/browser.js';
import { buildWheel } from './helpers/dists.js';
import { createUser, csrfFrom, type TestUser } from './helpers/factories.js';
import { createProject } from './helpers/projects.js';
import { createPluginTestApp, type TestApp } from './helpers/test-app.js';
import { upload } from './helpers/uploads.js';

/**
 * The three audit views in a real browser (issue 6): sign in through the form, open each tab,
 * page and filter, and look at what a person would read. Screenshots land in
 * test-output/screenshots/. Any console error or CSP violation fails the test.
 */

const ALICE_IP = '203.0.113.7';
const ADMIN_IP = '198.51.100.9';
const PROJECT = 'acme-widgets';
/** Raw tags must never reach an account holder's or an owner's page. */
const RAW_TAG = /\b(account|project|file|admin|notify):[a-z_]+(:[a-z_]+)*\b/;

describe('audit pages in a real browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser | undefined;
  let alice: TestUser;
  let admin: TestUser;
  const contexts: BrowserContext[] = [];

  /** A supertest agent signed in through the form, from `ip` (the app trusts loopback proxies). */
  async function agentFor(who: TestUser, ip: string) {
    const agent = request.agent(t.app.getHttpServer());
    const page = await agent.get('/account/login/').expect(200);
    await agent
      .post('/account/login/')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send({ username: who.username, password: who.password, csrf_token: csrfFrom(page.text) })
      .expect(303);
    const account = await agent.get('/manage/account/').expect(200);
    return { agent, csrf: csrfFrom(account.text) };
  }

  async function failedLogin(username: string, ip: string): Promise<void> {
    const agent = request.agent(t.app.getHttpServer());
    const page = await agent.get('/account/login/').expect(200);
    await agent
      .post('/account/login/')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send({ username, password: 'not-the-password', csrf_token: csrfFrom(page.text) })
      .expect(400);
  }

  beforeAll(async () => {
    t = await createPluginTestApp('audit', {
      env: {
        LARDER_TRUSTED_PROXIES: '127.0.0.1/32,::1/128,::ffff:127.0.0.1/128',
        LARDER_LOGIN_FAILURES_PER_IP: '10000',
        LARDER_LOGIN_FAILURES_PER_ACCOUNT: '10000',
      },
    });
    await new Promise<void>((resolve) => t.app.getHttpServer().listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;

    admin = await createUser(t, { username: 'root-admin', admin: true });
    alice = await createUser(t, { username: 'alice' });
    // More than a page (25) of alice's own events: sign-ins and failed sign-ins.
    for (let i = 0; i < 14; i++) await agentFor(alice, ALICE_IP);
    for (let i = 0; i < 8; i++) await failedLogin('alice', ALICE_IP);
    await failedLogin('nobody-here', ALICE_IP);
    const { agent, csrf } = await agentFor(alice, ALICE_IP);
    const created = await agent
      .post('/manage/account/token/')
      .set('X-Forwarded-For', ALICE_IP)
      .type('form')
      .send({ csrf_token: csrf, name: 'release-bot', scope: 'account' })
      .expect(200);
    const token = /(larder-[A-Za-z0-9_-]+)/.exec(created.text)![1];

    // A project with two uploads and a yank.
    await createProject(t, PROJECT, alice.user);
    for (const version of ['1.0', '1.1']) {
      const wheel = await buildWheel({ name: PROJECT, version });
      await upload(t, wheel, PROJECT, version, { token })
        .set('X-Forwarded-For', ALICE_IP)
        .expect(200);
    }
    const release = await agent.get(`/manage/project/${PROJECT}/release/1.0/`).expect(200);
    await agent
      .post(`/manage/project/${PROJECT}/release/1.0/yank`)
      .set('X-Forwarded-For', ALICE_IP)
      .type('form')
      .send({ csrf_token: csrfFrom(release.text), reason: 'broken wheel' })
      .expect(303);

    // An administrator acts on alice's account: she sees it with the address redacted.
    const root = await agentFor(admin, ADMIN_IP);
    await root.agent
      .post('/admin/users/alice/disable')
      .set('X-Forwarded-For', ADMIN_IP)
      .type('form')
      .send({ csrf_token: root.csrf, reason: 'suspicious sign-ins' })
      .expect(303);
    await root.agent
      .post('/admin/users/alice/enable')
      .set('X-Forwarded-For', ADMIN_IP)
      .type('form')
      .send({ csrf_token: root.csrf })
      .expect(303);
    await t.app.get(AuditWriter).idle();

    if (!browserMissing) browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t?.close();
  });

  /** A fresh browser profile signed in as `who` through the sign-in form. */
  async function signIn(who: TestUser): Promise<{ page: Page; problems: string[] }> {
    if (!browser) throw new Error('Chromium did not start');
    const context = await browser.newContext({ baseURL: base });
    contexts.push(context);
    const watched = await watchedPage(context);
    const { page } = watched;
    await page.goto('/account/login/');
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await Promise.all([
      page.waitForURL(/\/manage\//),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    return watched;
  }

  const summaries = (page: Page) => page.locator('.audit-summary').allTextContents();
  const rowIds = (page: Page) => page.locator('table.audit-events tbody tr').count();

  async function submitFilter(page: Page): Promise<void> {
    await Promise.all([
      page.waitForURL(/\?/),
      page.getByRole('button', { name: 'Filter' }).click(),
    ]);
  }

  itWithBrowser(
    'shows alice her Security history in plain words, pages it, and filters it',
    async () => {
      const { page, problems } = await signIn(alice);
      await page.getByRole('link', { name: 'alice', exact: true }).click();
      await page.getByRole('link', { name: 'Security history' }).click();
      await page.waitForURL('**/manage/account/history/');
      await screenshot(page, 'account-history');

      expect(await rowIds(page)).toBe(25);
      const first = await summaries(page);
      // Newest first: this very sign-in, then the administrator's two actions.
      expect(first[0]).toMatch(/^Logged in \(two-factor: /);
      expect(first.slice(1, 3)).toEqual([
        'Account enabled by an administrator',
        'Account disabled by an administrator (reason: suspicious sign-ins)',
      ]);
      expect(first.some((s) => s.startsWith('API token release-bot added'))).toBe(true);
      const text = await page.locator('main').innerText();
      expect(text).not.toMatch(RAW_TAG);
      // Her own actions show her address; the administrator's show "Redacted".
      const ips = await page.locator('.audit-ip').allTextContents();
      expect(ips[0]).toBe('127.0.0.1');
      expect(ips.slice(1, 3)).toEqual(['Redacted', 'Redacted']);
      expect(text).not.toContain(ADMIN_IP);
      expect(ips).toContain(ALICE_IP);
      // The unknown username's failure is for the admin log only.
      expect(text).not.toContain('nobody-here');

      // Older, then newer again: keyset pages, no overlap.
      await page.getByRole('link', { name: 'Older events' }).click();
      await page.waitForURL(/before=/);
      await screenshot(page, 'account-history-older');
      const second = await summaries(page);
      expect(second.length).toBeGreaterThan(0);
      expect(second.length).toBeLessThanOrEqual(25);
      expect(second.at(-1)).toBe('Account alice created by an administrator');
      expect(await page.getByRole('link', { name: 'Older events' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Newer events' }).click();
      await page.waitForURL(/after=/);
      expect(await summaries(page)).toEqual(first);

      // By event type.
      await page.goto('/manage/account/history/');
      await page.locator('select[name=tag]').selectOption({ label: 'Login failed' });
      await submitFilter(page);
      await screenshot(page, 'account-history-failures');
      const failures = await summaries(page);
      expect(failures).toHaveLength(8);
      expect(new Set(failures)).toEqual(new Set(['Login failed: wrong password']));

      // By date range: today has everything, tomorrow nothing.
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      await page.goto('/manage/account/history/');
      await page.getByLabel('From', { exact: true }).fill(today);
      await page.getByLabel('To', { exact: true }).fill(today);
      await submitFilter(page);
      expect(await rowIds(page)).toBe(25);
      await page.getByLabel('From', { exact: true }).fill(tomorrow);
      await page.getByLabel('To', { exact: true }).fill(tomorrow);
      await submitFilter(page);
      expect(await page.getByText('No events yet.').count()).toBe(1);

      expect(problems).toEqual([]);
    },
    180_000,
  );

  itWithBrowser(
    "shows the owner the project's Security history with releases and files",
    async () => {
      const { page, problems } = await signIn(alice);
      await page.goto(`/manage/project/${PROJECT}/`);
      await page.getByRole('link', { name: 'Security history' }).click();
      await page.waitForURL(`**/manage/project/${PROJECT}/history/`);
      await screenshot(page, 'project-history');
      const rows = await summaries(page);
      expect(rows[0]).toBe('Release 1.0 yanked by alice (reason: broken wheel)');
      expect(rows).toContain(
        `File acme_widgets-1.1-py3-none-any.whl uploaded to release 1.1 by alice`,
      );
      expect(await page.locator('main').innerText()).not.toMatch(RAW_TAG);

      await page.locator('select[name=tag]').selectOption({ label: 'Release yanked' });
      await submitFilter(page);
      await screenshot(page, 'project-history-yanks');
      expect(await summaries(page)).toEqual(['Release 1.0 yanked by alice (reason: broken wheel)']);
      expect(problems).toEqual([]);
    },
    120_000,
  );

  itWithBrowser(
    'shows the administrator the Audit log with its chart and every filter',
    async () => {
      const { page, problems } = await signIn(admin);
      await page.getByRole('link', { name: 'Admin', exact: true }).click();
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.waitForURL('**/admin/audit/');
      await screenshot(page, 'admin-audit-log');
      // The chart: one bar for today, every event of the seed in it.
      const bars = page.locator('figure.audit-chart svg rect');
      expect(await bars.count()).toBe(1);
      const total = Number(
        (await page.locator('figure.audit-chart svg rect title').textContent())!.split(': ')[1],
      );
      expect(total).toBeGreaterThan(30);
      // The admin log keeps the unknown username's failure and shows addresses.
      expect(await page.locator('main').innerText()).toContain(ADMIN_IP);

      const filter = async (fields: Record<string, string>, name: string) => {
        await page.goto('/admin/audit/');
        for (const [label, value] of Object.entries(fields)) {
          if (label === 'Event')
            await page.locator('select[name=tag]').selectOption({ label: value });
          else await page.getByLabel(label, { exact: true }).fill(value);
        }
        await submitFilter(page);
        await screenshot(page, `admin-audit-log-${name}`);
        return summaries(page);
      };

      expect(await filter({ Event: 'Release yanked' }, 'tag')).toEqual([
        'Release 1.0 yanked by alice (reason: broken wheel)',
      ]);
      const byAdmin = await filter({ Actor: 'root-admin' }, 'actor');
      expect(byAdmin).toEqual(
        expect.arrayContaining([
          'Account enabled by an administrator',
          'Account disabled by an administrator (reason: suspicious sign-ins)',
        ]),
      );
      expect(byAdmin.every((s) => !s.startsWith('File '))).toBe(true);
      const aboutAlice = await filter({ Account: 'alice' }, 'account');
      expect(aboutAlice).toHaveLength(25);
      expect(aboutAlice).toContain(
        'Account disabled by an administrator (reason: suspicious sign-ins)',
      );
      expect(aboutAlice).not.toContain('Login failed: unknown username');
      const project = await filter({ Project: PROJECT }, 'project');
      expect(project.length).toBeGreaterThanOrEqual(3);
      expect(project).toContain('Release 1.0 yanked by alice (reason: broken wheel)');
      const fromAdmin = await filter({ 'IP or CIDR': '198.51.100.0/24' }, 'ip');
      expect(fromAdmin.length).toBeGreaterThanOrEqual(3);
      expect(new Set(await page.locator('.audit-ip').allTextContents())).toEqual(
        new Set([ADMIN_IP]),
      );
      expect(await filter({ Text: 'nobody-here' }, 'q')).toEqual([
        'Login failed: unknown username',
      ]);
      // Filters combine, and the chart follows the filtered set.
      await filter({ Event: 'Login failed', 'IP or CIDR': ALICE_IP }, 'combined');
      expect(await summaries(page)).toHaveLength(9);
      expect(await page.locator('figure.audit-chart svg rect title').textContent()).toMatch(/: 9$/);
      expect(problems).toEqual([]);
    },
    180_000,
  );
});
