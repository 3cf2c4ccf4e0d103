/**
 * The REST routes of the ssooidc_jupyter server extension, typed.
 *
 * Every call goes through ServerConnection.makeRequest, so the server's token and XSRF
 * cookie are sent as JupyterLab sends them for its own routes.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** One sign-in named by the AWS config file (or made by start URL). */
export interface ISession {
  name: string;
  kind: 'sso-session' | 'profile' | 'start-url';
  start_url: string | null;
  region: string | null;
  state: 'signed_in' | 'expiring' | 'expired' | 'signed_out';
  expires_at: string | null;
  profiles: string[];
  login: Record<string, string>;
  error: string | null;
  /** When a refresh can no longer extend the sign-in (absent from older servers). */
  session_ends_at?: string | null;
  /** A sign-in to this entry waiting for approval in some process (absent: none). */
  pending?: IPendingElsewhere | null;
}

/** A sign-in held by some process (kernel, script, tab): what the user must do, no secret. */
export interface IPendingElsewhere {
  key: string;
  flow: 'device' | 'pkce';
  user_code: string | null;
  verification_uri: string | null;
  origin: string;
  started_at: string;
  expires_at: string | null;
  /** Started by this server (the tab that started it shows its own dialog). */
  here: boolean;
}

/** A sign-in running in the server: never a secret, only what the user must see. */
export interface ILogin {
  id: string;
  state:
    | 'pending'
    | 'signed_in'
    | 'denied'
    | 'expired'
    | 'cancelled'
    | 'failed'
    // Client-side only: the server no longer knows it (restarted or stopped).
    | 'lost';
  flow: 'device' | 'pkce';
  name: string | null;
  start_url: string;
  region: string;
  user_code: string | null;
  verification_uri: string | null;
  verification_uri_complete: string | null;
  expires_at: string | null;
  interval: number | null;
  message: string | null;
  signed_in_until: string | null;
}

export interface IStatus {
  sessions: ISession[];
  pending: ILogin[];
  config_error: string | null;
  /** The name of the admin's default sign-in (listed first), if the admin set one. */
  default?: string | null;
  /** The admin's mistakes in the extension's options: each refused, the rest working. */
  setup_errors?: string[];
  /** The server pushes status changes on the event bus (absent: it does not; poll). */
  events?: boolean;
}

export interface ILogout {
  name: string | null;
  start_url: string;
  state: 'signed_out';
  portal_logout: boolean;
  message: string | null;
}

/** The server settings, made once (the page's base URL, token and XSRF cookie). */
let serverSettings: ServerConnection.ISettings | null = null;

export function settings(): ServerConnection.ISettings {
  if (!serverSettings) {
    serverSettings = ServerConnection.makeSettings();
  }
  return serverSettings;
}

/** The HTTP status of a failed call, or null for a network error. */
export function errorStatus(error: unknown): number | null {
  return error instanceof ServerConnection.ResponseError
    ? error.response.status
    : null;
}

export async function requestAPI<T>(
  path: string,
  init: RequestInit = {}
): Promise<T> {
  const url = URLExt.join(settings().baseUrl, 'ssooidc', 'api', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings());
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message =
      (data && typeof data.message === 'string' && data.message) ||
      response.statusText;
    // The server's message says what went wrong and what to do: it is shown whole.
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
}

export function getStatus(): Promise<IStatus> {
  return requestAPI<IStatus>('status');
}

export function startLogin(body: Record<string, string>): Promise<ILogin> {
  return requestAPI<ILogin>('login', {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

export function getLogin(id: string): Promise<ILogin> {
  return requestAPI<ILogin>(`login/${encodeURIComponent(id)}`);
}

export function cancelLogin(id: string): Promise<ILogin> {
  return requestAPI<ILogin>(`login/${encodeURIComponent(id)}`, {
    method: 'DELETE'
  });
}

/** End a sign-in another process is waiting on (it gives up; the lock is freed). */
export function cancelPending(key: string): Promise<unknown> {
  return requestAPI<unknown>(`pending/${encodeURIComponent(key)}`, {
    method: 'DELETE'
  });
}

export function logout(body: Record<string, string>): Promise<ILogout> {
  return requestAPI<ILogout>('logout', {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

// The link check is pure (no JupyterLab import) so jest tests it; re-exported for callers.
export { safeLink } from './links';
