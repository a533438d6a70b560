import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a running `picloud dev` (PICLOUD_URL,
// default http://127.0.0.1:8080).
const target = process.env.PICLOUD_URL || 'http://127.0.0.1:8080';

export default defineConfig({
	plugins: [sveltekit()],
	server: {
		proxy: {
			'/api': target,
			'/healthz': target,
			'/version': target
		}
	},
	build: { reportCompressedSize: false },
	test: { include: ['src/**/*.test.js'], environment: 'node' }
});
