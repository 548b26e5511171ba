import { isIP } from 'node:net';

/**
 * Whether CloudFactory, on the internet, could never reach this URL: localhost, loopback,
 * private, link-local and unique-local addresses. A DNS name other than localhost is given the
 * benefit of the doubt.
 */
export function isUnreachableFromInternet(url: string): boolean {
	const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
	if (host === 'localhost' || host.endsWith('.localhost')) return true;
	if (isIP(host) === 4) {
		const [a, b] = host.split('.').map(Number);
		return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
	}
	if (isIP(host) === 6) {
		return host === '::1' || host === '::' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith('::ffff:127.');
	}
	return false;
}
