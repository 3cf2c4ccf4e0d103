/**
 * TypeScript's safeLink against the table Python's safe_link is tested on too
 * (tests/oidc/test_safe_link_cases.py): the status bar and the notebook offer the same links.
 */
import { safeLink } from '../links';

import table from './safe_link_cases.json';

interface ICase {
  url: string;
  safe: boolean;
  why: string;
}

const cases: ICase[] = table.cases;

describe('safeLink', () => {
  it('has cases of both answers, none twice', () => {
    expect(cases.filter(c => c.safe).length).toBeGreaterThanOrEqual(5);
    expect(cases.filter(c => !c.safe).length).toBeGreaterThanOrEqual(5);
    expect(new Set(cases.map(c => c.url)).size).toBe(cases.length);
  });

  it.each(cases.map(c => [c.why, c] as const))(
    'follows the shared table: %s',
    (_why, c) => {
      const link = safeLink(c.url);
      expect({ url: c.url, safe: link !== null }).toEqual({
        url: c.url,
        safe: c.safe
      });
      if (link !== null) {
        // Offered as the browser will open it: the same address, normalised.
        expect(link).toBe(new URL(c.url).href);
      }
    }
  );

  it('refuses null and undefined', () => {
    expect(safeLink(null)).toBeNull();
    expect(safeLink(undefined)).toBeNull();
  });
});
