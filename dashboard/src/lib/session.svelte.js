// The logged-in session: token and user, kept in sessionStorage so a
// reload keeps you logged in but closing the tab does not. The login also
// sets an HttpOnly cookie; the dashboard sends the bearer token explicitly.
import { goto } from '$app/navigation';
import { base } from '$app/paths';
import { createApi } from './api.js';

const KEY = 'picloud.session';

function load() {
	try {
		const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
		if (s && typeof s.token === 'string') return s;
	} catch {
		// Corrupt or unavailable storage: start logged out.
	}
	return null;
}

const saved = typeof sessionStorage === 'undefined' ? null : load();

export const session = $state({
	/** @type {string | null} */ token: saved?.token ?? null,
	/** @type {{id: string, username: string, role: string} | null} */ user: saved?.user ?? null,
	/** @type {string | null} */ expiresAt: saved?.expiresAt ?? null,
	/** Shown on the login page, e.g. why you were sent there. */
	notice: ''
});

function persist() {
	if (session.token) {
		sessionStorage.setItem(KEY, JSON.stringify({ token: session.token, user: session.user, expiresAt: session.expiresAt }));
	} else {
		sessionStorage.removeItem(KEY);
	}
}

function clear() {
	session.token = null;
	session.user = null;
	session.expiresAt = null;
	persist();
}

export const api = createApi({
	getToken: () => session.token,
	onUnauthorized: () => {
		if (!session.token) return;
		clear();
		session.notice = 'Your session has expired. Log in again to continue.';
		const here = location.pathname + location.search;
		goto(`${base}/login?next=${encodeURIComponent(here)}`);
	}
});

/** @param {{token: string, user: any, expires_at: string}} s */
function start(s) {
	session.token = s.token;
	session.user = s.user;
	session.expiresAt = s.expires_at;
	session.notice = '';
	persist();
}

/** @param {string} username @param {string} password */
export async function login(username, password) {
	start(await api.post('/auth/login', { username, password }, { anonymous: true }));
}

/**
 * First run: creates the owner with the node's setup token and logs in.
 * @param {string} token @param {string} username @param {string} password
 */
export async function setup(token, username, password) {
	start(await api.post('/setup', { token, username, password }, { anonymous: true }));
}

export async function logout() {
	try {
		await api.post('/auth/logout', undefined, { anonymous: true });
	} catch {
		// Logged out locally either way; the session ends on expiry.
	}
	clear();
	session.notice = 'You are logged out.';
	await goto(`${base}/login`);
}
