// End-to-end test of the dashboard: builds picloud from this tree, runs
// `picloud dev` on a fresh data directory and a free loopback port, and
// drives Debian's chromium through playwright-core like a person would.
// Prints one line per step and "N passed, N failed" last; exits non-zero on
// any failure. Screenshots go to dashboard/test-output/.
//
// Environment: PICLOUD_BIN (use this binary instead of building),
// CHROMIUM (default /usr/bin/chromium), E2E_KEEP=1 (keep the data dir).
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const outDir = resolve(here, '../test-output');
const PASSWORD = 'e2e-Secret-pass-1';
const STEP_TIMEOUT = 30_000;

function freePort() {
	return new Promise((res, rej) => {
		const s = createServer();
		s.once('error', rej);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

async function waitHealthy(base, proc, ms) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (proc.exitCode !== null) throw new Error(`picloud dev exited with ${proc.exitCode} before serving`);
		try {
			const r = await fetch(`${base}/healthz`);
			if (r.ok) return;
		} catch {
			// not up yet
		}
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error(`picloud dev did not answer /healthz within ${ms / 1000}s`);
}

function stopProcess(proc, ms) {
	return new Promise((res) => {
		if (proc.exitCode !== null || proc.signalCode !== null) return res();
		const t = setTimeout(() => {
			proc.kill('SIGKILL');
		}, ms);
		proc.once('exit', () => {
			clearTimeout(t);
			res();
		});
		proc.kill('SIGINT');
	});
}

const results = [];
async function step(name, fn) {
	const start = Date.now();
	try {
		await Promise.race([
			fn(),
			new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out after ${STEP_TIMEOUT / 1000}s`)), STEP_TIMEOUT))
		]);
		results.push({ name, ok: true });
		console.log(`ok   ${name} (${Date.now() - start} ms)`);
		return true;
	} catch (e) {
		results.push({ name, ok: false });
		console.log(`FAIL ${name}: ${e?.message ?? e}`);
		return false;
	}
}

function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}

async function main() {
	mkdirSync(outDir, { recursive: true });
	const t0 = Date.now();
	let bin = process.env.PICLOUD_BIN;
	const work = mkdtempSync(join(tmpdir(), 'picloud-dash-e2e-'));
	// A managed postgres runs as another user and must traverse the path.
	chmodSync(work, 0o711);
	if (!bin) {
		bin = join(work, 'picloud');
		execFileSync('go', ['build', '-o', bin, './cmd/picloud'], { cwd: repo, stdio: 'inherit' });
	}
	const port = await freePort();
	const base = `http://127.0.0.1:${port}`;
	const logs = [];
	const proc = spawn(bin, ['dev'], {
		env: {
			...process.env,
			PICLOUD_BIND: `127.0.0.1:${port}`,
			PICLOUD_DATA_DIR: join(work, 'data'),
			PICLOUD_ADMIN_USER: 'admin',
			PICLOUD_ADMIN_PASSWORD: PASSWORD,
			DATABASE_URL: ''
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	proc.stdout.on('data', (d) => logs.push(d.toString()));
	proc.stderr.on('data', (d) => logs.push(d.toString()));

	let browser;
	try {
		await waitHealthy(base, proc, 120_000);
		console.log(`picloud dev is up on ${base} after ${Date.now() - t0} ms`);
		// Playwright gives every launch a fresh, empty --user-data-dir.
		browser = await chromium.launch({
			executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
			headless: true,
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run'
			]
		});
		await run(browser, base);
	} catch (e) {
		results.push({ name: 'setup', ok: false });
		console.log(`FAIL setup: ${e?.stack ?? e}`);
	} finally {
		await browser?.close().catch(() => {});
		await stopProcess(proc, 30_000);
		if (results.some((r) => !r.ok)) console.log('--- picloud dev output ---\n' + logs.join('').slice(-4000));
		if (!process.env.E2E_KEEP) rmSync(work, { recursive: true, force: true });
	}
	const passed = results.filter((r) => r.ok).length;
	const failed = results.length - passed;
	console.log(`e2e took ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${outDir}`);
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

async function run(browser, base) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(15_000);

	// Any console error fails the run, except the browser's own
	// "Failed to load resource" line for an HTTP error status that a step
	// provoked on purpose and expects (it is listed in `expected`).
	const consoleErrors = [];
	const resourceErrors = [];
	page.on('console', (m) => {
		if (m.type() !== 'error' && m.type() !== 'warning') return;
		if (m.type() === 'error' && m.text().startsWith('Failed to load resource')) {
			resourceErrors.push({ url: m.location().url, text: m.text() });
		} else if (m.type() === 'error') {
			consoleErrors.push(m.text());
		}
	});
	page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
	const expected = [];
	const expect = (status, path) => expected.push({ status, path });
	const shot = (name, p = page) => p.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
	const admin = (p) => `${base}/admin${p}`;
	const noConsoleErrors = () => assert(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);

	let firstPageBytes = 0;
	await step('dashboard redirects to login; first page is small', async () => {
		await page.goto(admin('/'), { waitUntil: 'networkidle' });
		await page.waitForURL(/\/admin\/login/);
		await page.getByRole('button', { name: 'Log in' }).waitFor();
		firstPageBytes = await page.evaluate(() => {
			const nav = performance.getEntriesByType('navigation')[0];
			const res = performance.getEntriesByType('resource');
			return nav.encodedBodySize + res.reduce((n, r) => n + r.encodedBodySize, 0);
		});
		console.log(`     first page (login) loads ${firstPageBytes} bytes compressed`);
		assert(firstPageBytes > 1000 && firstPageBytes < 100_000, `first page is ${firstPageBytes} bytes`);
		await shot('01-login');
	});

	await step('wrong password shows a readable error', async () => {
		expect(401, '/api/v1/admin/auth/login');
		await page.getByLabel('Username').fill('admin');
		await page.getByLabel('Password').fill('not-the-password');
		await page.getByRole('button', { name: 'Log in' }).click();
		const alert = page.getByRole('alert');
		await alert.waitFor();
		const text = await alert.innerText();
		assert(/invalid|password|credentials/i.test(text), `error says ${JSON.stringify(text)}`);
	});

	await step('log in and see the apps', async () => {
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.waitForURL(/\/admin\/apps$/);
		await page.getByRole('link', { name: 'default', exact: true }).waitFor();
		await shot('02-apps');
	});

	await step('create an app; a duplicate slug shows the API error', async () => {
		await page.getByLabel('Slug').first().fill('e2e-app');
		await page.getByLabel('Name (optional)').fill('E2E app');
		await page.getByRole('button', { name: 'Create app' }).click();
		await page.waitForURL(/\/admin\/apps\/e2e-app$/);
		await page.getByText('No scripts yet').waitFor();
		await page.getByRole('link', { name: 'Apps' }).first().click();
		await page.waitForURL(/\/admin\/apps$/);
		await page.getByRole('link', { name: 'e2e-app', exact: true }).waitFor();
		expect(409, '/api/v1/admin/apps');
		await page.getByLabel('Slug').first().fill('e2e-app');
		await page.getByRole('button', { name: 'Create app' }).click();
		const alert = page.getByRole('alert');
		await alert.waitFor();
		const text = await alert.innerText();
		assert(/already exists/.test(text), `error says ${JSON.stringify(text)}`);
	});

	await step('scripts of the default app are listed', async () => {
		await page.getByRole('link', { name: 'default', exact: true }).click();
		await page.waitForURL(/\/admin\/apps\/default$/);
		await page.getByRole('heading', { name: 'Scripts of default' }).waitFor();
		const rows = page.locator('tbody tr td a');
		await rows.first().waitFor();
		assert((await rows.count()) >= 1, 'no seeded script listed');
		await shot('03-scripts');
	});

	const good = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const body = request.method === "POST" ? await request.text() : "";
    return Response.json({ greeting: "hi " + (url.searchParams.get("name") ?? "nobody"), method: request.method, body, agent: request.headers.get("x-test") });
  },
};
`;
	const bad = 'export default {\n  async fetch(request) {\n    return new Response("x" +);\n  },\n};\n';

	async function setSource(text) {
		const content = page.locator('.cm-content');
		await content.click();
		await page.keyboard.press('Control+A');
		await page.keyboard.press('Delete');
		await page.keyboard.insertText(text);
		// Whitespace-insensitive: empty lines render as <br>.
		const norm = (s) => s.replace(/\s+/g, ' ').trim();
		const got = await content.innerText();
		assert(norm(got) === norm(text), `editor holds ${JSON.stringify(got.slice(0, 120))}`);
	}

	await step('write a new script in the editor and deploy it', async () => {
		await page.getByLabel('Name').fill('e2e-hello.js');
		await page.getByRole('button', { name: 'Open editor' }).click();
		await page.waitForURL(/\/admin\/apps\/default\/scripts\/e2e-hello\.js$/);
		await page.locator('.cm-content').waitFor();
		await setSource(good);
		await page.getByLabel('Deploy message').fill('first version from the e2e test');
		await page.getByRole('button', { name: 'Deploy' }).click();
		const ok = page.getByTestId('deploy-ok');
		await ok.waitFor();
		const text = await ok.innerText();
		assert(/Created e2e-hello\.js, version 1/.test(text), `deploy said ${JSON.stringify(text)}`);
	});

	await step('call it from the test panel and see the response', async () => {
		await page.getByLabel('Method').selectOption('POST');
		await page.getByLabel('Query string').fill('?name=pi');
		await page.getByLabel('Headers').fill('X-Test: from-the-panel\nContent-Type: text/plain');
		await page.getByLabel('Body', { exact: true }).fill('hello body');
		await page.getByRole('button', { name: 'Send' }).click();
		const body = page.getByTestId('response-body');
		await body.waitFor();
		const got = JSON.parse(await body.innerText());
		assert(got.greeting === 'hi pi', `greeting ${got.greeting}`);
		assert(got.method === 'POST' && got.body === 'hello body' && got.agent === 'from-the-panel', `response ${JSON.stringify(got)}`);
		const status = await page.getByTestId('response').locator('strong').innerText();
		assert(status.startsWith('200'), `status ${status}`);
		await shot('04-editor-test-panel');
	});

	await step('bad code gets a syntax error marker and is not deployed', async () => {
		expect(400, '/api/v1/admin/scripts');
		await setSource(bad);
		await page.getByRole('button', { name: 'Deploy' }).click();
		const err = page.getByTestId('deploy-error');
		await err.waitFor();
		const text = await err.innerText();
		assert(/syntax error at line 3/i.test(text), `error says ${JSON.stringify(text)}`);
		await page.locator('.cm-lintRange-error').first().waitFor();
		await page.locator('.cm-gutter-lint .cm-lint-marker-error').first().waitFor();
		// The marker sits on line 3, where the error is.
		const markedLine = await page.locator('.cm-line', { has: page.locator('.cm-lintRange-error') }).innerText();
		assert(markedLine.includes('"x" +'), `marker on ${JSON.stringify(markedLine)}`);
		await shot('05-syntax-error');
		// The deployed version still answers.
		await page.getByLabel('Method').selectOption('GET');
		await page.getByRole('button', { name: 'Send' }).click();
		await page.getByTestId('response-body').filter({ hasText: 'hi pi' }).waitFor();
	});

	await step('fixing the code clears the marker and deploys version 2', async () => {
		await setSource(good.replace('"hi "', '"hello "'));
		assert((await page.locator('.cm-lintRange-error').count()) === 0, 'marker survived the edit');
		await page.getByRole('button', { name: 'Deploy' }).click();
		await page.getByTestId('deploy-ok').filter({ hasText: 'Deployed version 2' }).waitFor();
		await page.getByRole('button', { name: 'Send' }).click();
		await page.getByTestId('response-body').filter({ hasText: 'hello pi' }).waitFor();
	});

	let liveGreeting = '"hello "';
	await step('versions: one-click rollback', async () => {
		const table = page.getByTestId('versions');
		await table.locator('tr', { hasText: 'first version from the e2e test' }).waitFor();
		await shot('06-versions');
		await page.getByRole('button', { name: 'Roll back to version 1' }).click();
		liveGreeting = '"hi "';
		await page.getByTestId('deploy-ok').filter({ hasText: 'Rolled back to version 1' }).waitFor();
		await page.locator('h1 .badge', { hasText: 'v1' }).waitFor();
		await table.locator('tr', { hasText: 'first version from the e2e test' }).getByText('live').waitFor();
		const src = await page.locator('.cm-content').innerText();
		assert(src.includes('"hi "'), `editor after rollback shows ${JSON.stringify(src.slice(0, 160))}`);
		await page.getByRole('button', { name: 'Send' }).click();
		await page.getByTestId('response-body').filter({ hasText: 'hi pi' }).waitFor();
	});

	await step('the scripts list shows the live version', async () => {
		await page.getByRole('link', { name: 'default' }).click();
		const row = page.locator('tr', { has: page.getByRole('link', { name: 'e2e-hello.js' }) });
		await row.waitFor();
		const text = await row.innerText();
		// Rolled back: version 1 is live again.
		assert(text.includes('v1') && text.includes('javascript'), `row ${JSON.stringify(text)}, want v1`);
	});

	await step('node view shows health and version', async () => {
		await page.getByRole('link', { name: 'Node' }).click();
		await page.getByTestId('health').filter({ hasText: 'ok' }).waitFor();
		const v = await page.getByTestId('version').innerText();
		const want = await (await fetch(`${base}/version`)).json();
		assert(v === want.product, `version ${v}, want ${want.product}`);
		await shot('07-node');
	});

	await step('an expired session returns to login with a message', async () => {
		// End the session behind the page's back, as expiry would.
		const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('picloud.session')).token);
		const r = await fetch(`${base}/api/v1/admin/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
		assert(r.status === 204, `logout answered ${r.status}`);
		expect(401, '/api/v1/admin/auth/me');
		await page.getByRole('button', { name: 'Refresh' }).click();
		await page.waitForURL(/\/admin\/login\?next=/);
		await page.getByText('Your session has expired').waitFor();
		// Logging in again returns to where you were.
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.waitForURL(/\/admin\/node$/);
	});

	// Logs, metrics, KV and secrets (dash2): a block of its own.
	await observeSteps({ browser, page, base, admin, shot, expect, consoleErrors });

	await step('log out', async () => {
		await page.getByRole('button', { name: 'Log out' }).click();
		await page.waitForURL(/\/admin\/login/);
		await page.getByText('You are logged out').waitFor();
		const me = await page.evaluate(() => sessionStorage.getItem('picloud.session'));
		assert(me === null, 'session still stored after logout');
	});

	await step('phone-sized screen: menu and editor fit', async () => {
		const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
		const p = await phone.newPage();
		p.on('console', (m) => {
			if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(`phone: ${m.text()}`);
		});
		p.on('pageerror', (e) => consoleErrors.push(`phone uncaught: ${e.message}`));
		await p.goto(admin('/login'));
		await p.getByLabel('Password').fill(PASSWORD);
		await p.getByRole('button', { name: 'Log in' }).click();
		await p.waitForURL(/\/admin\/apps$/);
		await p.goto(admin('/apps/default/scripts/e2e-hello.js'));
		await p.locator('.cm-content').waitFor();
		// A fresh tab has no local copy: the live source comes from the API.
		const src = await p.locator('.cm-content').innerText();
		assert(src.includes(liveGreeting), `editor shows ${JSON.stringify(src.slice(0, 120))}`);
		const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert(overflow <= 1, `page is ${overflow}px wider than the screen`);
		await p.getByRole('button', { name: 'Menu' }).click();
		await p.getByRole('link', { name: 'Node' }).waitFor();
		await shot('08-phone-editor', p);
		await phone.close();
	});

	await step('no console errors and only the expected failed requests', async () => {
		noConsoleErrors();
		const unexpected = resourceErrors.filter((r) => {
			const m = /status of (\d+)/.exec(r.text);
			const st = m ? Number(m[1]) : 0;
			const path = new URL(r.url, base).pathname;
			return !expected.some((e) => e.status === st && path === e.path);
		});
		assert(unexpected.length === 0, `unexpected failed requests: ${JSON.stringify(unexpected)}`);
	});
}

// ---- Logs, metrics, KV and secrets -------------------------------------
// Deploys its own script through the API, then drives the logs, metrics
// and KV screens of the default app. Expects to be logged in on page.
async function observeSteps({ browser, page, base, admin, shot, expect, consoleErrors }) {
	const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('picloud.session')).token);
	const apiCall = async (method, path, body, headers = {}) => {
		const r = await fetch(`${base}/api/v1/admin${path}`, {
			method,
			headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}), ...headers },
			body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
		});
		const text = await r.text();
		return { status: r.status, headers: r.headers, text, json: text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
	};
	const logger = `export default {
  async fetch(request) {
    const url = new URL(request.url);
    const who = url.searchParams.get("name") ?? "nobody";
    if (url.searchParams.get("fail")) throw new Error("failing on purpose for " + who);
    if (url.searchParams.get("warn")) console.warn("careful " + who);
    else console.log("logged " + who);
    return new Response("ok " + who);
  },
};
`;
	let scriptId = '';
	const call = async (query) => {
		const r = await fetch(`${base}/api/v1/execute/${scriptId}?${query}`);
		await r.text();
		return r.status;
	};

	await step('logs: a script call arrives live in the tail, with outcome and duration', async () => {
		const d = await apiCall('POST', '/scripts', { app: 'default', name: 'e2e-logger.js', source: logger, message: 'logger for the logs e2e' });
		assert(d.status === 200 || d.status === 201, `deploy answered ${d.status} ${d.text}`);
		scriptId = d.json.id;
		await page.goto(admin('/apps/default'));
		await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name: 'Logs' }).click();
		await page.waitForURL(/\/admin\/apps\/default\/logs$/);
		await page.getByLabel('Script', { exact: true }).selectOption('e2e-logger.js');
		await page.getByTestId('tail-status').filter({ hasText: 'Live' }).waitFor();
		const name = `tail-${Date.now()}`;
		const t0 = Date.now();
		assert((await call(`name=${name}`)) === 200, 'call failed');
		const item = page.getByTestId('execution').filter({ hasText: `logged ${name}` });
		await item.waitFor();
		console.log(`     log line on the live tail ${Date.now() - t0} ms after the call started`);
		assert((await item.getAttribute('data-outcome')) === 'success', 'outcome is not success');
		assert(/\d+(\.\d+)? (µs|ms|s)$/.test(await item.getByTestId('duration').innerText()), 'no duration shown');
		// A failing call shows its outcome and error.
		assert((await call(`name=${name}&fail=1`)) === 500, 'failing call did not answer 500');
		const failed = page.getByTestId('execution').filter({ hasText: `failing on purpose for ${name}` });
		await failed.waitFor();
		assert((await failed.getAttribute('data-outcome')) === 'error', 'failed call is not an error');
		await shot('10-logs-live');
	});

	await step('logs: level filter, search, and paging back through history', async () => {
		const name = `lvl-${Date.now()}`;
		await page.getByLabel('Level').selectOption('warn');
		await page.getByTestId('tail-status').filter({ hasText: 'Live' }).waitFor();
		assert((await page.getByTestId('execution').filter({ hasText: 'logged tail-' }).count()) === 0, 'info line shown under warn filter');
		await call(`name=${name}-info`);
		await call(`name=${name}&warn=1`);
		await page.getByTestId('execution').filter({ hasText: `careful ${name}` }).waitFor();
		assert((await page.getByTestId('execution').filter({ hasText: `logged ${name}-info` }).count()) === 0, 'info execution arrived under warn filter');
		await page.getByLabel('Level').selectOption('');
		await page.getByTestId('execution').filter({ hasText: `logged ${name}-info` }).waitFor();
		await page.getByLabel('Search').fill(`${name}-info`);
		await page.getByText('1 match').waitFor();
		assert((await page.getByTestId('execution').count()) === 1, 'search left more than one execution');
		await page.getByLabel('Search').fill('');
		// 60 more executions: the first page holds 50, "Load older" the rest.
		for (let i = 0; i < 60; i++) await call(`name=page-${i}`);
		await page.getByTestId('execution').filter({ hasText: 'logged page-59' }).waitFor();
		await page.reload();
		await page.getByLabel('Script', { exact: true }).selectOption('e2e-logger.js');
		await page.getByTestId('execution').filter({ hasText: 'logged page-59' }).waitFor();
		const first = await page.getByTestId('execution').count();
		assert(first === 50, `first page shows ${first} executions, want 50`);
		await page.getByRole('button', { name: 'Load older' }).click();
		await page.getByTestId('execution').filter({ hasText: `logged tail-` }).waitFor();
		const all = await page.getByTestId('execution').count();
		assert(all > 60, `after paging ${all} executions`);
	});

	await step('metrics: the chart shows the requests, and node numbers', async () => {
		const want = (await apiCall('GET', '/metrics?app=default&script=e2e-logger.js&since=1h')).json;
		assert(want.totals.count >= 64, `API counts ${want.totals.count}`);
		await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name: 'Metrics' }).click();
		await page.waitForURL(/\/admin\/apps\/default\/metrics$/);
		await page.getByLabel('Script', { exact: true }).selectOption('e2e-logger.js');
		await page.getByTestId('total-requests').filter({ hasText: String(want.totals.count) }).waitFor();
		const chart = page.getByTestId('chart-requests');
		await chart.locator('rect').first().waitFor();
		const label = await chart.locator('svg').getAttribute('aria-label');
		assert(label.includes(`requests: ${want.totals.count} in total`), `chart says ${label}`);
		const row = page.getByTestId('script-metrics').locator('tr', { hasText: 'e2e-logger.js' });
		assert((await row.innerText()).includes(String(want.totals.count)), 'per-script row lacks the count');
		const nodeBox = page.getByTestId('node-metrics');
		await nodeBox.getByText(/\d+ \/ 32/).waitFor();
		// Live refresh: a new call shows up without reloading.
		await call('name=refresh');
		await page.getByTestId('total-requests').filter({ hasText: String(want.totals.count + 1) }).waitFor({ timeout: 15_000 });
		await nodeBox.locator('svg').first().waitFor({ timeout: 15_000 });
		await shot('11-metrics');
	});

	await step('KV: add a key with TTL and metadata, view it, delete it', async () => {
		await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name: 'KV & secrets' }).click();
		await page.waitForURL(/\/admin\/apps\/default\/kv$/);
		await page.getByLabel('Open a namespace by name').fill('e2e-store');
		await page.getByRole('button', { name: 'Open', exact: true }).click();
		await page.getByTestId('namespace').filter({ hasText: 'e2e-store' }).waitFor();
		await page.getByLabel('Key', { exact: true }).fill('config/main');
		await page.getByRole('region', { name: 'Value' }).getByLabel('Value').fill('{"greeting":"hello","n":[1,2]}');
		await page.getByLabel('Expires after (seconds, optional)').fill('3600');
		await page.getByLabel('Metadata (JSON, optional)').fill('{"v": 1}');
		await page.getByRole('button', { name: 'Save in e2e-store' }).click();
		await page.getByTestId('kv-ok').filter({ hasText: 'Saved config/main' }).waitFor();
		const v = page.getByTestId('kv-value');
		await v.locator('pre').filter({ hasText: '"greeting": "hello"' }).waitFor();
		const meta = await v.innerText();
		// Metadata comes back as Postgres prints jsonb.
		assert(meta.includes('JSON') && /\{"v": ?1\}/.test(meta) && /expires in (59|60) min/.test(meta), `value panel says ${JSON.stringify(meta)}`);
		const stored = await apiCall('GET', '/apps/default/kv/e2e-store/values/config/main');
		assert(stored.status === 200 && stored.text === '{"greeting":"hello","n":[1,2]}', `stored ${stored.status} ${stored.text}`);
		assert(JSON.parse(stored.headers.get('x-picloud-kv-metadata')).v === 1 && stored.headers.get('x-picloud-kv-expiration'), 'metadata or expiration not stored');
		// Binary values are shown as hex.
		await apiCall('PUT', '/apps/default/kv/e2e-store/values/blob', '\u0000\u0001binary', { 'Content-Type': 'application/octet-stream' });
		await page.getByRole('button', { name: 'List' }).click();
		await page.getByTestId('kv-keys').getByRole('button', { name: 'blob' }).click();
		await v.locator('pre').filter({ hasText: '00000000  00 01 62 69' }).waitFor();
		await page.getByTestId('kv-keys').getByRole('button', { name: 'config/main' }).click();
		await v.locator('pre').filter({ hasText: '"greeting"' }).waitFor();
		await shot('12-kv');
		// A too-short TTL is refused before anything is sent.
		await page.getByLabel('Key', { exact: true }).fill('short');
		await page.getByLabel('Expires after (seconds, optional)').fill('10');
		await page.getByRole('button', { name: 'Save in e2e-store' }).click();
		await page.getByRole('alert').filter({ hasText: 'at least 60' }).waitFor();
		await page.getByLabel('Expires after (seconds, optional)').fill('');
		// Delete asks first; Cancel keeps the key.
		await v.getByRole('button', { name: 'Delete key' }).click();
		await page.getByTestId('confirm').getByRole('button', { name: 'Cancel' }).click();
		assert((await apiCall('GET', '/apps/default/kv/e2e-store/values/config/main')).status === 200, 'cancel deleted the key');
		await v.getByRole('button', { name: 'Delete key' }).click();
		const confirmBox = page.getByTestId('confirm');
		assert((await confirmBox.innerText()).includes('config/main'), 'confirmation does not name the key');
		// The confirm button has the focus: Enter confirms.
		await page.keyboard.press('Enter');
		await page.getByTestId('kv-ok').filter({ hasText: 'Deleted config/main' }).waitFor();
		const left = await page.getByTestId('kv-keys').innerText();
		assert(!left.includes('config/main'), `deleted key still listed: ${JSON.stringify(left)} (API: ${(await apiCall('GET', '/apps/default/kv/e2e-store/keys')).text})`);
		assert((await apiCall('GET', '/apps/default/kv/e2e-store/values/config/main')).status === 404, 'key still stored');
	});

	await step('secrets: set one and see only its name', async () => {
		const secret = `s3cret-${Date.now()}-value`;
		await page.getByLabel('Name', { exact: true }).fill('E2E_TOKEN');
		await page.getByLabel('Value', { exact: true }).last().fill(secret);
		await page.getByRole('button', { name: 'Set secret' }).click();
		await page.getByTestId('secret-ok').filter({ hasText: 'Saved secret E2E_TOKEN' }).waitFor();
		await page.getByTestId('secrets').getByText('E2E_TOKEN').waitFor();
		const html = await page.content();
		assert(!html.includes(secret), 'the secret value is in the page');
		const list = await apiCall('GET', '/apps/default/secrets');
		assert(list.text.includes('E2E_TOKEN') && !list.text.includes(secret), `secrets list ${list.text}`);
		await shot('13-secrets');
		await page.getByRole('button', { name: 'Delete secret E2E_TOKEN' }).click();
		await page.getByTestId('confirm').getByRole('button', { name: 'Delete' }).click();
		await page.getByTestId('secret-ok').filter({ hasText: 'Deleted secret E2E_TOKEN' }).waitFor();
		assert(!(await apiCall('GET', '/apps/default/secrets')).text.includes('E2E_TOKEN'), 'secret still listed');
	});

	// Phone-sized screens, one step per screen (a phone page is slow to
	// start on a loaded machine); the session is reused, not logged in again.
	const saved = await page.evaluate(() => sessionStorage.getItem('picloud.session'));
	for (const [path, ready, name] of [
		['/apps/default/logs', (q) => q.getByTestId('execution').first(), '14-phone-logs'],
		['/apps/default/metrics', (q) => q.getByTestId('chart-requests').locator('svg'), '15-phone-metrics'],
		['/apps/default/kv', (q) => q.getByTestId('namespace'), '16-phone-kv']
	]) {
		await step(`phone-sized screen: ${path} fits`, async () => {
			const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
			try {
				await phone.addInitScript((s) => sessionStorage.setItem('picloud.session', s), saved);
				const p = await phone.newPage();
				p.on('console', (m) => {
					if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(`phone: ${m.text()}`);
				});
				p.on('pageerror', (e) => consoleErrors.push(`phone uncaught: ${e.message}`));
				await p.goto(admin(path));
				await ready(p).waitFor();
				const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
				assert(overflow <= 1, `${path} is ${overflow}px wider than the screen`);
				await shot(name, p);
			} finally {
				await phone.close();
			}
		});
	}
}

main().catch((e) => {
	console.error(e);
	console.log('0 passed, 1 failed');
	process.exit(1);
});
