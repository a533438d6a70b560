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
import { request as httpRequest } from 'node:http';
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
		await run(browser, base, { bin, work });
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

async function run(browser, base, env) {
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

	// Cron triggers on the script page (dashcron): a block of its own.
	await cronSteps({ page, base, admin, shot, expect });

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

	// Apps settings, routes, bindings, diff, users, keys, first run (dash1).
	await dash1Steps({ browser, page, base, admin, shot, expect, consoleErrors, env });

	await step('no console errors and only the expected failed requests', async () => {
		noConsoleErrors();
		const unexpected = resourceErrors.filter((r) => {
			const m = /status of (\d+)/.exec(r.text);
			const st = m ? Number(m[1]) : 0;
			const path = new URL(r.url, base).pathname;
			return !expected.some((e) => e.status === st && (e.path instanceof RegExp ? e.path.test(path) : path === e.path));
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
		// From the script's editor, its logs open already filtered.
		await page.goto(admin('/apps/default/scripts/e2e-logger.js'));
		await page.getByRole('link', { name: 'Logs of this script' }).click();
		await page.waitForURL(/\/admin\/apps\/default\/logs\?script=e2e-logger\.js$/);
		assert((await page.getByLabel('Script', { exact: true }).inputValue()) === 'e2e-logger.js', 'script filter not preset');
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
		await shot('20-logs-live');
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
		await shot('21-metrics');
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
		await shot('22-kv');
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
		await shot('23-secrets');
		await page.getByRole('button', { name: 'Delete secret E2E_TOKEN' }).click();
		await page.getByTestId('confirm').getByRole('button', { name: 'Delete' }).click();
		await page.getByTestId('secret-ok').filter({ hasText: 'Deleted secret E2E_TOKEN' }).waitFor();
		assert(!(await apiCall('GET', '/apps/default/secrets')).text.includes('E2E_TOKEN'), 'secret still listed');
	});

	// Phone-sized screens, one step per screen (a phone page is slow to
	// start on a loaded machine); the session is reused, not logged in again.
	const saved = await page.evaluate(() => sessionStorage.getItem('picloud.session'));
	for (const [path, ready, name] of [
		['/apps/default/logs', (q) => q.getByTestId('execution').first(), '24-phone-logs'],
		['/apps/default/metrics', (q) => q.getByTestId('chart-requests').locator('svg'), '25-phone-metrics'],
		['/apps/default/kv', (q) => q.getByTestId('namespace'), '26-phone-kv']
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

// ---------------------------------------------------------------------------
// dash1: app settings, domains, members, routes (check, match), bindings,
// version diff, users, API keys, node CA, first-run setup on a fresh node.
// ---------------------------------------------------------------------------

function startAgent(bin, work) {
	const logs = [];
	return freePort().then((port) => {
		const proc = spawn(bin, ['agent'], {
			env: {
				...process.env,
				PICLOUD_BIND: `127.0.0.1:${port}`,
				PICLOUD_HTTPS_BIND: 'off',
				PICLOUD_DATA_DIR: join(work, 'fresh'),
				PICLOUD_ADMIN_PASSWORD: '',
				DATABASE_URL: ''
			},
			stdio: ['ignore', 'pipe', 'pipe']
		});
		proc.stdout.on('data', (d) => logs.push(d.toString()));
		proc.stderr.on('data', (d) => logs.push(d.toString()));
		return { proc, base: `http://127.0.0.1:${port}`, logs };
	});
}

// ---- Cron triggers -------------------------------------------------------
// Deploys a script with a scheduled handler through the API, edits its
// triggers on its page, watches the ticks on its live tail, clears them.
// Expects to be logged in on page.
async function cronSteps({ page, base, admin, shot, expect }) {
	const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('picloud.session')).token);
	const apiCall = async (method, path, body) => {
		const r = await fetch(`${base}/api/v1/admin${path}`, {
			method,
			headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		const text = await r.text();
		return { status: r.status, text, data: text ? JSON.parse(text) : null };
	};
	const ticker = `export default {
  fetch() { return new Response("ticker"); },
  scheduled(event) { console.log("tick " + event.cron + " at " + event.scheduledTime); },
};
`;
	let id = '';
	const stored = async () => {
		const r = await apiCall('GET', `/scripts/${id}/crons`);
		assert(r.status === 200, `GET crons answered ${r.status} ${r.text}`);
		return r.data.crons;
	};
	const rows = () => page.getByTestId('cron-row');

	await step('crons: a bad schedule shows its error on its row and saves nothing', async () => {
		const d = await apiCall('POST', '/scripts', { app: 'default', name: 'e2e-ticker.js', source: ticker, message: 'ticker for the cron e2e' });
		assert(d.status === 200 || d.status === 201, `deploy answered ${d.status} ${d.text}`);
		id = d.data.id;
		expect(422, `/api/v1/admin/scripts/${id}/crons`);
		await page.goto(admin('/apps/default/scripts/e2e-ticker.js'));
		const box = page.getByRole('region', { name: 'Cron triggers' });
		await box.getByTestId('cron-none').waitFor();
		// Two rows: a good one first, so the error must land on the second.
		await box.getByRole('button', { name: 'Add trigger' }).click();
		await page.locator('#cron-schedule-0').fill('0 0 * * * *');
		await box.getByRole('button', { name: 'Add trigger' }).click();
		await page.locator('#cron-schedule-1').fill('61 * * * * *');
		assert((await page.locator('#cron-tz-1').inputValue()) === 'UTC', 'time zone does not default to UTC');
		await box.getByRole('button', { name: 'Save triggers' }).click();
		const err = rows().nth(1).getByTestId('cron-row-error');
		await err.waitFor();
		const text = await err.innerText();
		assert(/Schedule:.*61/.test(text), `row error says ${JSON.stringify(text)}`);
		assert((await rows().nth(0).getByTestId('cron-row-error').count()) === 0, 'the good row shows an error');
		await box.getByTestId('cron-error').filter({ hasText: 'Not saved: 1 trigger has an error' }).waitFor();
		assert((await page.locator('#cron-schedule-1').getAttribute('aria-invalid')) === 'true', 'bad input not marked invalid');
		// The input is kept, and the API stored nothing.
		assert((await page.locator('#cron-schedule-1').inputValue()) === '61 * * * * *', 'the bad schedule was not kept');
		assert((await rows().count()) === 2, 'rows were lost');
		assert((await stored()).length === 0, 'a refused set was stored');
		await shot('30-cron-error');
	});

	await step('crons: fix it, save, and see it listed with a next run', async () => {
		const box = page.getByRole('region', { name: 'Cron triggers' });
		await box.getByRole('button', { name: 'Remove trigger 1' }).click();
		await page.locator('#cron-schedule-0').fill('* * * * * *');
		await box.getByRole('button', { name: 'Save triggers' }).click();
		await box.getByTestId('cron-ok').filter({ hasText: 'Saved 1 trigger.' }).waitFor();
		const listed = box.getByTestId('cron-trigger');
		await listed.filter({ hasText: '* * * * * *' }).waitFor();
		assert((await listed.count()) === 1, `${await listed.count()} triggers listed`);
		const next = await listed.getByTestId('cron-next').innerText();
		assert(/(in \d+ s|now|due)\s+\S/.test(next), `next run shows ${JSON.stringify(next)}`);
		const got = await stored();
		assert(got.length === 1 && got[0].schedule === '* * * * * *' && got[0].timezone === 'UTC', `API has ${JSON.stringify(got)}`);
		// The first tick is claimed within a couple of seconds: last run fills in.
		await listed.getByTestId('cron-last').filter({ hasText: /ago|now/ }).waitFor({ timeout: 10_000 });
		await shot('31-cron-saved');
	});

	await step('crons: ticks arrive on the script\'s live tail as SCHEDULED', async () => {
		await page.getByRole('link', { name: 'Logs of this script' }).click();
		await page.waitForURL(/\/admin\/apps\/default\/logs\?script=e2e-ticker\.js$/);
		await page.getByTestId('tail-status').filter({ hasText: 'Live' }).waitFor();
		const seen = await page.getByTestId('execution').count();
		// A tick that happens after the tail is live, not only history.
		const t0 = Date.now();
		await page.waitForFunction((n) => document.querySelectorAll('[data-testid="execution"]').length > n, seen, { timeout: 10_000 });
		console.log(`     a tick arrived on the live tail ${Date.now() - t0} ms after it went live`);
		const tick = page.getByTestId('execution').filter({ hasText: 'SCHEDULED * * * * * *' }).first();
		await tick.getByText(/tick \* \* \* \* \* \* at \d+/).waitFor();
		assert((await tick.getAttribute('data-outcome')) === 'success', 'tick outcome is not success');
	});

	await step('crons: an empty set clears the triggers', async () => {
		await page.goto(admin('/apps/default/scripts/e2e-ticker.js'));
		const box = page.getByRole('region', { name: 'Cron triggers' });
		await box.getByTestId('cron-trigger').waitFor();
		await box.getByRole('button', { name: 'Remove trigger 1' }).click();
		await box.getByRole('button', { name: 'Save (remove all)' }).click();
		await box.getByTestId('cron-ok').filter({ hasText: 'Removed every trigger.' }).waitFor();
		await box.getByTestId('cron-none').waitFor();
		assert((await stored()).length === 0, 'triggers still stored');
	});
}

function httpGet(url, host) {
	return new Promise((res, rej) => {
		const u = new URL(url);
		const req = httpRequest({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { Host: host } }, (r) => {
			let body = '';
			r.on('data', (d) => (body += d));
			r.on('end', () => res({ status: r.statusCode, body }));
		});
		req.on('error', rej);
		req.end();
	});
}

async function dash1Steps({ browser, page, base, admin, shot, expect, consoleErrors, env }) {
	// The fresh node for the first-run screen boots while the other steps run.
	const fresh = startAgent(env.bin, env.work);
	const token = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('picloud.session')).token);
	const apiCall = async (method, path, body) => {
		const r = await fetch(`${base}/api/v1/admin${path}`, {
			method,
			headers: { Authorization: `Bearer ${await token()}`, 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		const text = await r.text();
		return { status: r.status, data: text ? JSON.parse(text) : null };
	};

	await step('dash1: log in again; Users and API keys are in the menu', async () => {
		await page.goto(admin('/login'));
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.waitForURL(/\/admin\/apps$/);
		await page.getByRole('link', { name: 'Users' }).waitFor();
		await page.getByRole('link', { name: 'API keys' }).waitFor();
	});

	await step('dash1: create a user; the last-owner guard reads well', async () => {
		await page.getByRole('link', { name: 'Users' }).click();
		await page.waitForURL(/\/admin\/users$/);
		await page.getByLabel('Username').fill('e2e-dev');
		await page.getByLabel('Password', { exact: true }).fill('e2e-dev-password');
		await page.getByLabel('Role', { exact: true }).selectOption('member');
		await page.getByRole('button', { name: 'Create user' }).click();
		await page.getByText('Created e2e-dev (member).').waitFor();
		await page.getByTestId('users').getByRole('cell', { name: 'e2e-dev', exact: true }).waitFor();
		// Demoting the only owner is refused with a message a person reads.
		expect(409, /^\/api\/v1\/admin\/users\/[^/]+$/);
		await page.getByLabel('Role of admin').selectOption('member');
		const alert = page.getByTestId('users').getByRole('alert');
		await alert.waitFor();
		const text = await alert.innerText();
		assert(/without an active owner/.test(text), `guard says ${JSON.stringify(text)}`);
		assert((await page.getByLabel('Role of admin').inputValue()) === 'owner', 'the select kept the refused role');
		// Reset a password and deactivate.
		await page.getByRole('row', { name: /e2e-dev/ }).getByRole('button', { name: 'Reset password' }).click();
		await page.getByLabel('New password for e2e-dev').fill('another-password-1');
		await page.getByRole('button', { name: 'Set password', exact: true }).click();
		await page.getByText('Password of e2e-dev set').waitFor();
		await shot('09-users');
	});

	await step('dash1: app settings: rename, claim a domain, conflict shown inline, members', async () => {
		await page.goto(admin('/apps/e2e-app/settings'));
		await page.getByRole('heading', { name: 'Settings of e2e-app' }).waitFor();
		await page.getByLabel('Name', { exact: true }).fill('E2E shop');
		await page.getByRole('button', { name: 'Save' }).click();
		await page.getByTestId('settings-ok').filter({ hasText: 'Saved.' }).waitFor();
		await page.getByLabel('Claim a domain').fill('shop.e2e.test');
		await page.getByRole('button', { name: 'Claim' }).click();
		await page.getByTestId('domains').getByText('shop.e2e.test').waitFor();
		await page.getByLabel('Add a user').fill('e2e-dev');
		await page.getByLabel('Role', { exact: true }).selectOption('editor');
		await page.getByRole('button', { name: 'Add member' }).click();
		await page.getByLabel('Role of e2e-dev').waitFor();
		assert((await page.getByLabel('Role of e2e-dev').inputValue()) === 'editor', 'member role');
		await page.getByLabel('Role of e2e-dev').selectOption('viewer');
		await page.waitForFunction(async () => {
			const s = JSON.parse(sessionStorage.getItem('picloud.session'));
			const r = await fetch('/api/v1/admin/apps/e2e-app/members', { headers: { Authorization: `Bearer ${s.token}` } });
			return (await r.json()).members.some((m) => m.username === 'e2e-dev' && m.role === 'viewer');
		});
		expect(404, '/api/v1/admin/apps/e2e-app/members/nobody-here');
		await page.getByLabel('Add a user').fill('nobody-here');
		await page.getByRole('button', { name: 'Add member' }).click();
		await page.getByTestId('member-error').waitFor();
		await shot('10-app-settings');
		// The same domain from another app: the 409 names the holder.
		expect(409, '/api/v1/admin/apps/default/domains');
		await page.goto(admin('/apps/default/settings'));
		await page.getByLabel('Claim a domain').fill('shop.e2e.test');
		await page.getByRole('button', { name: 'Claim' }).click();
		const err = await page.getByTestId('domain-error').innerText();
		assert(/claimed by app e2e-app/.test(err), `conflict says ${JSON.stringify(err)}`);
	});

	await step('dash1: rename the slug; the old one follows to the new', async () => {
		await page.goto(admin('/apps/e2e-app/settings'));
		await page.getByLabel('Slug').fill('e2e-shop');
		await page.getByRole('button', { name: 'Save' }).click();
		await page.waitForURL(/\/admin\/apps\/e2e-shop\/settings$/);
		await page.getByTestId('settings-ok').filter({ hasText: 'Renamed to e2e-shop' }).waitFor();
		await page.goto(admin('/apps/e2e-app/routes'));
		await page.waitForURL(/\/admin\/apps\/e2e-shop\/routes$/);
	});

	await step('dash1: add a route with the live check, see a conflict and a parse error', async () => {
		await page.goto(admin('/apps/default/routes'));
		await page.getByTestId('routes').getByText('hello').first().waitFor();
		await page.locator('#route-method').selectOption('GET');
		await page.locator('#route-path').fill('/e2e/:id');
		await page.locator('#route-script').selectOption('e2e-hello.js');
		await page.getByTestId('route-check').getByText('No conflicts: GET /e2e/:id → e2e-hello.js').waitFor();
		await page.getByRole('button', { name: 'Add route' }).click();
		await page.getByTestId('routes').getByText('/e2e/:id').waitFor();
		// The same shape again: the check names the route in the way.
		expect(409, '/api/v1/admin/routes/check');
		await page.locator('#route-path').fill('/e2e/:other');
		await page.getByTestId('route-check').getByText('Conflicts with the route GET /e2e/:id → e2e-hello.js').waitFor();
		// A parse error points at the position.
		expect(422, '/api/v1/admin/routes/check');
		await page.locator('#route-path').fill('/e2e/a:b');
		const caret = page.getByTestId('route-check').locator('pre.caret');
		await caret.waitFor();
		const c = await caret.innerText();
		assert(c.split('\n')[1] === '      ^', `caret ${JSON.stringify(c)}`);
		await shot('11-routes-check');
	});

	await step('dash1: which route answers this URL, and the edge agrees', async () => {
		await page.locator('#route-path').fill('/');
		await page.locator('#match-path').fill('/e2e/42');
		await page.getByRole('button', { name: 'Find route' }).click();
		const res = page.getByTestId('match-result');
		await res.getByText('Answered by GET /e2e/:id → e2e-hello.js').waitFor();
		await res.getByText('42').waitFor();
		await shot('12-routes-match');
		const r = await httpGet(`${base}/e2e/42`, 'localhost');
		assert(r.status === 200 && r.body.includes('nobody'), `GET /e2e/42 = ${r.status} ${r.body}`);
		// Edit it, then delete it (two clicks).
		await page.getByRole('button', { name: 'Edit route GET /e2e/:id → e2e-hello.js' }).click();
		await page.locator('#route-path').fill('/e2e/:n/x');
		await page.getByTestId('route-check').getByText('No conflicts').waitFor();
		await page.getByRole('button', { name: 'Save route' }).click();
		await page.getByTestId('routes').getByText('/e2e/:n/x').waitFor();
		// By keyboard: Enter asks, Enter again deletes.
		await page.getByRole('button', { name: 'Delete route GET /e2e/:n/x → e2e-hello.js' }).focus();
		await page.keyboard.press('Enter');
		await page.getByRole('button', { name: 'Delete?' }).waitFor();
		await page.keyboard.press('Enter');
		await page.getByTestId('routes').getByText('/e2e/:n/x').waitFor({ state: 'detached' });
	});

	const envScript = `export default {
  async fetch(request, env) {
    return Response.json({ greeting: env.GREETING, n: env.CONF.n, kv: typeof env.STORE });
  },
};
`;
	await step('dash1: bindings editor: invalid JSON refused, then deployed and used', async () => {
		await page.goto(admin('/apps/default/scripts/e2e-env.js'));
		const content = page.locator('.cm-content');
		await content.click();
		await page.keyboard.press('Control+A');
		await page.keyboard.press('Delete');
		await page.keyboard.insertText(envScript);
		const add = page.getByRole('button', { name: 'Add binding' });
		await add.click();
		await page.locator('#binding-name-0').fill('GREETING');
		await page.locator('#binding-value-0').fill('bonjour');
		await add.click();
		await page.locator('#binding-name-1').fill('CONF');
		await page.locator('#binding-type-1').selectOption('json');
		await page.locator('#binding-value-1').fill('{"n": ');
		await page.getByTestId('bindings').getByText('CONF: not valid JSON').waitFor();
		await page.getByRole('button', { name: 'Deploy' }).click();
		await page.getByTestId('deploy-error').filter({ hasText: 'Fix the bindings first' }).waitFor();
		await page.locator('#binding-value-1').fill('{"n": 7}');
		await add.click();
		await page.locator('#binding-name-2').fill('STORE');
		await page.locator('#binding-type-2').selectOption('kv');
		await page.locator('#binding-value-2').fill('store');
		await page.getByRole('button', { name: 'Deploy' }).click();
		await page.getByTestId('deploy-ok').filter({ hasText: 'Created e2e-env.js, version 1' }).waitFor();
		await page.getByRole('button', { name: 'Send' }).click();
		const got = JSON.parse(await page.getByTestId('response-body').innerText());
		assert(got.greeting === 'bonjour' && got.n === 7 && got.kv === 'object', `response ${JSON.stringify(got)}`);
		// A fresh load reads them back from GET /scripts/{id}.
		await page.reload();
		await page.locator('#binding-name-0').waitFor();
		const names = await page.locator('[id^=binding-name-]').evaluateAll((els) => els.map((e) => e.value));
		assert(names.join() === 'CONF,GREETING,STORE', `bindings after reload ${names}`);
		assert((await page.locator('#binding-value-1').inputValue()) === 'bonjour', 'GREETING value');
	});

	await step('dash1: a code-only deploy keeps the bindings; diff against the live version', async () => {
		const content = page.locator('.cm-content');
		await content.click();
		await page.keyboard.press('Control+A');
		await page.keyboard.press('Delete');
		await page.keyboard.insertText(envScript.replace('n: env.CONF.n', 'n: env.CONF.n + 1'));
		await page.getByRole('button', { name: 'Deploy' }).click();
		await page.getByTestId('deploy-ok').filter({ hasText: 'Deployed version 2' }).waitFor();
		await page.getByRole('button', { name: 'Send' }).click();
		await page.getByTestId('response-body').filter({ hasText: '"n": 8' }).waitFor();
		await page.getByRole('button', { name: 'Diff version 1' }).click();
		await page.getByLabel(/Compare version 1 with/).selectOption('live');
		const diff = page.getByTestId('diff');
		await diff.getByText('1 added, 1 removed').waitFor();
		await diff.locator('.line.add', { hasText: 'env.CONF.n + 1' }).waitFor();
		await diff.locator('.line.del', { hasText: 'n: env.CONF.n,' }).waitFor();
		await shot('13-bindings-diff');
		// Clearing every binding sends {} and the script loses them.
		for (let i = 2; i >= 0; i--) await page.getByTestId('bindings').getByRole('button', { name: /^Remove binding/ }).first().click();
		await page.getByRole('button', { name: 'Deploy' }).click();
		await page.getByTestId('deploy-ok').filter({ hasText: 'Deployed version 3' }).waitFor();
		const { data } = await apiCall('GET', `/scripts?app=default&name=e2e-env.js`);
		const s = await apiCall('GET', `/scripts/${data.scripts[0].id}`);
		assert(JSON.stringify(s.data.bindings) === '{}', `bindings after clearing: ${JSON.stringify(s.data.bindings)}`);
	});

	await step('dash1: API key shown once, works, then revoked', async () => {
		await page.getByRole('link', { name: 'API keys' }).click();
		await page.waitForURL(/\/admin\/keys$/);
		await page.getByLabel('Name').fill('e2e-key');
		await page.getByLabel('Expires').selectOption('720h');
		await page.getByRole('button', { name: 'Create key' }).click();
		const box = page.getByTestId('new-key-box');
		await box.waitFor();
		const key = await page.getByLabel('The new API key').inputValue();
		assert(/^pic_[a-z2-7]{52}$/.test(key), `key ${key}`);
		await box.getByRole('button', { name: 'Copy' }).click();
		await box.getByText(/Copied|Selected/).waitFor();
		await shot('14-api-key');
		const r = await fetch(`${base}/api/v1/admin/scripts?app=default`, { headers: { Authorization: `Bearer ${key}` } });
		assert(r.status === 200, `the key answered ${r.status}`);
		await page.reload();
		await page.getByTestId('keys').getByText('e2e-key').waitFor();
		assert(!(await page.content()).includes(key), 'the key is shown again after a reload');
		await page.getByRole('button', { name: 'Revoke key e2e-key' }).click();
		await page.getByRole('button', { name: 'Revoke?' }).click();
		await page.getByTestId('keys').getByText('e2e-key').waitFor({ state: 'detached' });
		const r2 = await fetch(`${base}/api/v1/admin/scripts?app=default`, { headers: { Authorization: `Bearer ${key}` } });
		assert(r2.status === 401, `the revoked key answered ${r2.status}`);
	});

	await step('dash1: delete an app with scripts: confirm by name, then force', async () => {
		assert((await apiCall('POST', '/apps', { slug: 'e2e-del' })).status === 201, 'create e2e-del');
		assert((await apiCall('POST', '/scripts', { app: 'e2e-del', name: 'x', source: 'export default { fetch() { return new Response("x") } }' })).status === 201, 'deploy');
		await page.goto(admin('/apps/e2e-del/settings'));
		const del = page.getByRole('button', { name: 'Delete app e2e-del' });
		await del.waitFor();
		assert(await del.isDisabled(), 'delete enabled before typing the name');
		await page.getByLabel(/to confirm/).fill('e2e-del');
		expect(409, '/api/v1/admin/apps/e2e-del');
		await del.click();
		await page.getByTestId('has-scripts').filter({ hasText: 'still has 1 script' }).waitFor();
		await page.getByRole('button', { name: 'Delete e2e-del and its 1 script' }).click();
		await page.waitForURL(/\/admin\/apps$/);
		assert((await apiCall('GET', '/apps/e2e-del')).status === 404, 'e2e-del still exists');
	});

	await step('dash1: node view offers the CA root (or says HTTPS is off)', async () => {
		expect(404, '/admin/ca.crt');
		await page.getByRole('link', { name: 'Node' }).click();
		await page.getByTestId('ca-status').filter({ hasText: 'HTTPS is off' }).waitFor();
		await page.getByText('Windows').click();
		await page.getByText('Import-Certificate').waitFor();
		await shot('15-node-ca');
	});

	const agent = await fresh;
	let phone;
	try {
		// Outside the step's time limit: a loaded machine may take a while
		// to create the fresh node's database.
		const boot = await waitHealthy(agent.base, agent.proc, 120_000).catch((e) => e);
		await step('dash1: first run on a fresh node: setup token creates the owner', async () => {
			if (boot) throw boot;
			// The node writes its log in batches, up to 100 ms late.
			let m = null;
			for (let i = 0; i < 100 && !m; i++) {
				m = /setup_token=([a-z2-7]{26})/.exec(agent.logs.join(''));
				if (!m) await new Promise((r) => setTimeout(r, 50));
			}
			assert(m, 'the agent logged no setup token');
			const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
			const p = await ctx.newPage();
			p.on('console', (msg) => {
				if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) consoleErrors.push(`first run: ${msg.text()}`);
			});
			p.on('pageerror', (e) => consoleErrors.push(`first run uncaught: ${e.message}`));
			await p.goto(`${agent.base}/admin/`);
			await p.getByRole('heading', { name: 'First run: create the owner' }).waitFor();
			await p.getByLabel('Setup token').fill('wrongwrongwrongwrongwrongw');
			await p.getByLabel('Username').fill('founder');
			await p.getByLabel('Password', { exact: true }).fill('founder-password');
			await p.getByLabel('Password again').fill('founder-password');
			await p.getByRole('button', { name: 'Create owner and log in' }).click();
			await p.getByRole('alert').filter({ hasText: 'setup token is wrong' }).waitFor();
			await p.getByLabel('Setup token').fill(m[1]);
			await shot('16-first-run', p);
			await p.getByRole('button', { name: 'Create owner and log in' }).click();
			await p.waitForURL(/\/admin\/apps$/);
			await p.getByRole('button', { name: 'Menu' }).click();
			await p.getByText('founder').waitFor();
			const again = await fetch(`${agent.base}/api/v1/admin/setup`);
			assert((await again.json()).needed === false, 'setup still needed');
			phone = p;
		});
		await step('dash1: phone-sized screen: the new screens fit', async () => {
			assert(phone, 'no phone page');
			for (const path of ['/node', '/apps/default/settings', '/users', '/keys', '/apps/default/routes']) {
				await phone.goto(`${agent.base}/admin${path}`);
				await phone.getByRole('heading', { level: 1 }).waitFor();
				await phone.waitForLoadState('networkidle');
				const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
				assert(overflow <= 1, `${path} is ${overflow}px wider than the screen`);
			}
			await shot('17-phone-routes', phone);
		});
	} finally {
		if (results.some((r) => !r.ok && r.name.startsWith('dash1: first run'))) {
			console.log('--- fresh agent output ---\n' + agent.logs.join('').slice(-3000));
		}
		await phone?.context().close();
		await stopProcess(agent.proc, 30_000);
	}
}

main().catch((e) => {
	console.error(e);
	console.log('0 passed, 1 failed');
	process.exit(1);
});
