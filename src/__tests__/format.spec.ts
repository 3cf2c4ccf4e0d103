/**
 * What the status-bar item and the code dialog show, from the pure helpers of src/format.ts.
 */
import type { ISession, IStatus } from '../api';
import { endsSoon, summarize, timeLeft } from '../format';

function session(overrides: Partial<ISession> = {}): ISession {
  return {
    name: 'dev',
    kind: 'sso-session',
    start_url: 'https://d-1234567890.awsapps.com/start',
    region: 'us-east-1',
    state: 'signed_out',
    expires_at: null,
    profiles: [],
    login: { session_name: 'dev' },
    error: null,
    ...overrides
  };
}

function status(sessions: ISession[], pending = 0): IStatus {
  return {
    sessions,
    pending: Array.from(
      { length: pending },
      () => ({}) as IStatus['pending'][0]
    ),
    config_error: null
  };
}

describe('summarize', () => {
  it('says unreachable when the server did not answer, whatever it said before', () => {
    const signedIn = status([session({ state: 'signed_in' })]);
    expect(summarize(signedIn, 'The Jupyter server does not answer')).toEqual({
      state: 'unreachable',
      session: null
    });
  });

  it('shows the first signed-in or expiring session', () => {
    const second = session({ name: 'prod', state: 'expiring' });
    const result = summarize(
      status([
        session({ state: 'expired' }),
        second,
        session({ name: 'x', state: 'signed_in' })
      ])
    );
    expect(result).toEqual({ state: 'expiring', session: second });
  });

  it('says pending for a sign-in of this server or of another process', () => {
    expect(summarize(status([session()], 1)).state).toBe('pending');
    const elsewhere = session({
      pending: {
        key: 'k',
        flow: 'device',
        user_code: 'ABCD-EFGH',
        verification_uri: 'https://device.sso.us-east-1.amazonaws.com/',
        origin: 'kernel',
        started_at: '2026-01-01T00:00:00Z',
        expires_at: null,
        here: false
      }
    });
    expect(summarize(status([elsewhere])).state).toBe('pending');
  });

  it('says signed out when nothing is signed in or pending, or nothing was read', () => {
    expect(summarize(status([session({ state: 'expired' })])).state).toBe(
      'signed_out'
    );
    expect(summarize(null)).toEqual({ state: 'signed_out', session: null });
  });
});

describe('timeLeft', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('counts minutes and zero-padded seconds', () => {
    expect(timeLeft('2026-01-01T12:09:05Z', now)).toEqual({
      minutes: 9,
      seconds: '05'
    });
    expect(timeLeft('2026-01-01T12:00:59.6Z', now)).toEqual({
      minutes: 1,
      seconds: '00'
    });
  });

  it('stops at 0:00 and knows no time without one', () => {
    expect(timeLeft('2026-01-01T11:59:00Z', now)).toEqual({
      minutes: 0,
      seconds: '00'
    });
    expect(timeLeft(null, now)).toBeNull();
    expect(timeLeft('not a time', now)).toBeNull();
  });
});

describe('endsSoon', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const tenMinutes = 10 * 60 * 1000;
  const ending = (at: string, state: ISession['state'] = 'signed_in') =>
    session({ state, session_ends_at: at });

  it('warns within the notice, signed in, before the end', () => {
    expect(endsSoon(ending('2026-01-01T12:09:00Z'), now, tenMinutes)).toBe(
      true
    );
    expect(
      endsSoon(ending('2026-01-01T12:10:00Z', 'expiring'), now, tenMinutes)
    ).toBe(true);
  });

  it('does not warn early, after the end, signed out, or without an end', () => {
    expect(endsSoon(ending('2026-01-01T12:11:00Z'), now, tenMinutes)).toBe(
      false
    );
    expect(endsSoon(ending('2026-01-01T11:59:00Z'), now, tenMinutes)).toBe(
      false
    );
    expect(
      endsSoon(ending('2026-01-01T12:05:00Z', 'expired'), now, tenMinutes)
    ).toBe(false);
    expect(endsSoon(session({ state: 'signed_in' }), now, tenMinutes)).toBe(
      false
    );
  });
});
