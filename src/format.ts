/**
 * What the status bar and the dialogs show, decided without the DOM or JupyterLab: which
 * state the item is in, how long a code has left, when to warn that a session ends. Pure
 * functions (only type imports), so jest tests them as they are (src/__tests__/).
 */
import type { ISession, IStatus } from './api';

/** The states in which a sign-in holds a usable token. */
export const SIGNED_IN: ReadonlySet<string> = new Set([
  'signed_in',
  'expiring'
]);

/** What the status-bar item says, before translation. */
export interface ISummary {
  state: 'unreachable' | 'signed_in' | 'expiring' | 'pending' | 'signed_out';
  /** The signed-in session shown (the first one), when the state is signed_in/expiring. */
  session: ISession | null;
}

/** The item's state: the server unreachable wins (the last state seen may be stale), then
 * the first signed-in session, then a sign-in waiting anywhere, else signed out. */
export function summarize(
  status: IStatus | null,
  problem?: string | null
): ISummary {
  if (problem) {
    return { state: 'unreachable', session: null };
  }
  const session = status?.sessions.find(s => SIGNED_IN.has(s.state)) ?? null;
  if (session) {
    return { state: session.state as 'signed_in' | 'expiring', session };
  }
  const pending =
    (status?.pending.length ?? 0) > 0 ||
    (status?.sessions ?? []).some(s => s.pending);
  return { state: pending ? 'pending' : 'signed_out', session: null };
}

/** Minutes and zero-padded seconds left until `expiresAt` (an ISO time), never below
 * 0:00; null when the time is unknown. */
export function timeLeft(
  expiresAt: string | null | undefined,
  now: number
): { minutes: number; seconds: string } | null {
  const expires = expiresAt ? Date.parse(expiresAt) : NaN;
  if (isNaN(expires)) {
    return null;
  }
  const left = Math.max(0, Math.round((expires - now) / 1000));
  return {
    minutes: Math.floor(left / 60),
    seconds: String(left % 60).padStart(2, '0')
  };
}

/** Whether a signed-in session's end (which a refresh cannot extend) is within
 * `noticeMs` and not yet past. */
export function endsSoon(
  session: ISession,
  now: number,
  noticeMs: number
): boolean {
  const ends = session.session_ends_at
    ? Date.parse(session.session_ends_at)
    : NaN;
  return SIGNED_IN.has(session.state) && ends - now <= noticeMs && ends > now;
}
