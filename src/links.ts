/**
 * Which links the extension offers: the twin of Python's `safe_link`
 * (ssooidc_jupyter/oidc/_values.py). Both read one table of cases,
 * src/__tests__/safe_link_cases.json (jest: src/__tests__/links.spec.ts; pytest:
 * tests/oidc/test_safe_link_cases.py), so a change on one side alone fails a test.
 *
 * No import: the jest tests load it as it is.
 */

/** The host as written (after the scheme's `//` and any user info), before the URL
 * parser normalises it: `http://127.1/` and `http://0x7f.0.0.1/` reach 127.0.0.1 in a
 * browser, but Python does not read them as a loopback address, so neither do we. */
const WRITTEN_HOST =
  /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i;

/** A loopback host as Python's `is_loopback_host` judges it: `localhost`, 127.0.0.0/8
 * written as four decimal numbers, or an IPv6 loopback address (any spelling of ::1). */
function isLoopback(written: string, parsed: string): boolean {
  if (written.startsWith('[')) {
    return parsed === '[::1]';
  }
  if (written === 'localhost') {
    return true;
  }
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(written) && parsed === written;
}

/** A link we are willing to open: https, or http on the loopback (a local emulator);
 * else null. */
export function safeLink(url: string | null | undefined): string | null {
  if (!url) {
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  // `https:example.com` parses in a browser, but names no host to Python.
  const written = WRITTEN_HOST.exec(url);
  if (!written || !written[1]) {
    return null;
  }
  if (parsed.protocol === 'https:') {
    return parsed.href;
  }
  if (
    parsed.protocol === 'http:' &&
    isLoopback(written[1].toLowerCase(), parsed.hostname)
  ) {
    return parsed.href;
  }
  return null;
}
