// Helpers of the API keys screen.

/** Scopes a key may hold, with what each allows (docs/api.md). */
export const SCOPES = [
	{ value: 'app:read', label: 'app:read — see apps, domains, members' },
	{ value: 'logs:read', label: 'logs:read — read execution logs' },
	{ value: 'script:read', label: 'script:read — read scripts, versions, routes' },
	{ value: 'script:write', label: 'script:write — deploy, roll back, change routes' },
	{ value: 'app:admin', label: 'app:admin — everything on apps' },
	{ value: 'instance:*', label: 'instance:* — everything you may do (not with an app)' }
];

/** Expiry choices: a Go duration for expires_in, '' for never. */
export const EXPIRIES = [
	{ value: '', label: 'Never' },
	{ value: '24h', label: '1 day' },
	{ value: '168h', label: '7 days' },
	{ value: '720h', label: '30 days' },
	{ value: '2160h', label: '90 days' },
	{ value: '8760h', label: '1 year' }
];

/**
 * The body of POST /keys from the form, or an error message.
 * @param {{name: string, scopes: string[], app: string, expiresIn: string}} f
 * @returns {{body: Record<string, any>} | {error: string}}
 */
export function keyRequest(f) {
	if (!f.scopes.length) return { error: 'Choose at least one scope.' };
	if (f.app && f.scopes.includes('instance:*')) {
		return { error: 'A key bound to an app cannot have instance:*; choose app scopes or no app.' };
	}
	/** @type {Record<string, any>} */
	const body = { name: f.name.trim(), scopes: [...f.scopes] };
	if (f.app) body.app = f.app;
	if (f.expiresIn) body.expires_in = f.expiresIn;
	return { body };
}

/**
 * Whether a key has expired at `now`.
 * @param {{expires_at?: string | null}} k
 * @param {Date} [now]
 */
export function expired(k, now = new Date()) {
	return !!k.expires_at && new Date(k.expires_at).getTime() <= now.getTime();
}
