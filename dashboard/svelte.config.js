import adapter from '@sveltejs/adapter-static';

/** @type {import('@sveltejs/kit').Config} */
export default {
	kit: {
		// A single-page app: every unknown path gets index.html and the
		// client-side router takes over (the Go handler does the same).
		adapter: adapter({ pages: 'dist', assets: 'dist', fallback: 'index.html', precompress: false }),
		// Must match dashboard.Base in dashboard.go.
		paths: { base: '/admin' },
		// A fixed version name keeps the committed build reproducible
		// (the default is the build time).
		version: { name: 'picloud-dashboard' },
		appDir: '_app'
	}
};
