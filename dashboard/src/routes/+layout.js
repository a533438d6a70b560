// A client-only single-page app: nothing is rendered or prerendered at
// build time except the fallback page.
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'ignore';
