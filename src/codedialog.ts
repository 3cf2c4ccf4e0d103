/**
 * The code dialog (device flow: the code, Copy, the link) and the PKCE dialog (a button to
 * the AWS sign-in page), each with a countdown and Cancel. It closes when its sign-in ends,
 * which it learns from the server's status push (./status.ts), or, where the server does
 * not push, from a poll.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Poll } from '@lumino/polling';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { ILogin, cancelLogin, errorStatus, getLogin, safeLink } from './api';
import { describeError, element } from './dom';
import { timeLeft } from './format';

/** Where the server does not push: how often a pending sign-in is asked for its state
 * (the code is approved elsewhere). */
const LOGIN_POLL_MS = 500;
/** Where it pushes (a sign-in's start and end are pushed): a slower read, only to notice
 * a server that stopped or restarted and forgot the sign-in, which no push tells. It must
 * come before JupyterLab's own session poll (10 s) notices the stopped server: on
 * JupyterHub that opens the hub's "Server unavailable" dialog, and every dialog opened
 * later (ours saying the sign-in was lost) waits behind it. */
const LOST_CHECK_MS = 2_000;
/** Answers that mean the server no longer has the sign-in: 404 (it restarted and forgot
 * it) and 424 (JupyterHub: the user's server is not running). */
const LOST_STATUSES = new Set([404, 424]);
/** How long reads may fail in a row (network errors, 5xx) before the sign-in is given up. */
const LOST_AFTER_MS = 10_000;

/** How the code dialog learns that its sign-in may have ended: the status pushes of the
 * server (StatusModel), or, where there are none, a poll. */
export interface ILoginWatch {
  /** Emitted for each status change the server pushes. */
  readonly pushed: ISignal<unknown, void>;
  /** Whether the server pushes to this tab. */
  readonly pushing: boolean;
  /** Emitted after each read of the status, whether it answered or not. */
  readonly changed: ISignal<unknown, void>;
  /** Why the status could not be read the last time, or null. */
  readonly problem: string | null;
}

/** The dialog's body: the code and Copy (device flow) or a button to the AWS sign-in
 * page (PKCE), the link, and the countdown's paragraph. */
function codeBody(
  trans: TranslationBundle,
  login: ILogin
): { body: Widget; countdown: HTMLElement } {
  const body = new Widget({
    node: element('div', 'ssooidc-dialog ssooidc-code-dialog')
  });
  const node = body.node;
  const pkce = login.flow === 'pkce';
  node.dataset.flow = login.flow;
  node.appendChild(
    element(
      'p',
      'ssooidc-instructions',
      pkce
        ? trans.__(
            'Open the AWS sign-in page and approve; it comes back to Jupyter and this dialog closes.'
          )
        : trans.__(
            'Open the sign-in page, check that it shows this code, and approve it:'
          )
    )
  );
  if (!pkce) {
    const codeRow = element('div', 'ssooidc-code-row');
    const code = element('code', 'ssooidc-code', login.user_code ?? '');
    const copy = element(
      'button',
      'ssooidc-copy jp-mod-styled',
      trans.__('Copy')
    );
    copy.type = 'button';
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(login.user_code ?? '').then(
        () => {
          copy.textContent = trans.__('Copied');
        },
        () => {
          copy.textContent = trans.__('Copy failed');
        }
      );
    });
    codeRow.append(code, copy);
    node.appendChild(codeRow);
  }
  const href = safeLink(login.verification_uri_complete);
  if (href) {
    const link = element(
      'a',
      pkce ? 'ssooidc-link ssooidc-link-button' : 'ssooidc-link',
      pkce
        ? trans.__('Open the AWS sign-in page')
        : (login.verification_uri ?? href)
    );
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    node.appendChild(link);
  } else {
    node.appendChild(
      element(
        'p',
        'ssooidc-error',
        trans.__('The sign-in page address is not a safe link; not shown.')
      )
    );
  }
  const countdown = element('p', 'ssooidc-countdown');
  countdown.setAttribute('aria-live', 'polite');
  node.appendChild(countdown);
  return { body, countdown };
}

/** Follows one pending sign-in while its dialog is open, and calls `onEnd` once when it
 * ended (or the server lost it). Where the server pushes, it reads the sign-in at each
 * push (the server pushes when a sign-in ends), once at start (it may have ended before
 * anyone listened) and every LOST_CHECK_MS; else it polls every LOGIN_POLL_MS. */
class LoginFollower {
  constructor(
    private readonly _trans: TranslationBundle,
    login: ILogin,
    private readonly _watch: ILoginWatch,
    private readonly _onEnd: () => void
  ) {
    this.latest = login;
    this.pushing = _watch.pushing;
    if (this.pushing) {
      _watch.pushed.connect(this._onPush, this);
      // A server that stops pushes nothing: the status read that fails (the hub's 424,
      // a refused connection) is the sign that the sign-in may be lost.
      _watch.changed.connect(this._onStatus, this);
    }
    // Only while the dialog is open (a sign-in in progress), never when idle; not while
    // the tab is hidden (the user approving in another tab): it reads again on return.
    this._poll = new Poll({
      factory: () => this._check(),
      frequency: {
        interval: this.pushing ? LOST_CHECK_MS : LOGIN_POLL_MS,
        backoff: false
      },
      standby: 'when-hidden',
      name: 'ssooidc:login'
    });
  }

  /** The sign-in as last read. */
  latest: ILogin;
  /** Whether it ended (onEnd was called). */
  finished = false;
  /** Whether it follows pushes (else it polls). */
  readonly pushing: boolean;

  dispose(): void {
    this._watch.pushed.disconnect(this._onPush, this);
    this._watch.changed.disconnect(this._onStatus, this);
    this._poll.dispose();
  }

  private _onPush(): void {
    void this._check();
  }

  private _onStatus(): void {
    if (this._watch.problem !== null) {
      void this._check();
    }
  }

  private async _check(): Promise<void> {
    if (this.finished) {
      return;
    }
    try {
      this.latest = await getLogin(this.latest.id);
      this._failingSince = null;
    } catch (error) {
      this._failingSince = this._failingSince ?? Date.now();
      const gone = LOST_STATUSES.has(errorStatus(error) ?? 0);
      if (gone || Date.now() - this._failingSince >= LOST_AFTER_MS) {
        // The server restarted (it forgot the sign-in) or is down: stop reading.
        this.latest = {
          ...this.latest,
          state: 'lost',
          message: this._trans.__(
            'The sign-in was lost: the Jupyter server restarted or stopped while it was pending. Start it again.'
          )
        };
        this._end();
      }
      return; // else a blip: the next read tries again; Cancel still works
    }
    if (this.latest.state !== 'pending') {
      this._end();
    }
  }

  private _end(): void {
    if (!this.finished) {
      this.finished = true;
      this._onEnd();
    }
  }

  private _failingSince: number | null = null;
  private _poll: Poll;
}

/** The code dialog (device flow: the code, Copy, the link) or the PKCE dialog (a button
 * to the AWS sign-in page, no code); a countdown and Cancel in both. It closes when the
 * sign-in ends, learnt from the server's push (`watch`) or, without one, a poll. */
export async function showCode(
  trans: TranslationBundle,
  login: ILogin,
  watch: ILoginWatch
): Promise<ILogin> {
  const { body, countdown } = codeBody(trans, login);
  const dialog = new Dialog<unknown>({
    title: trans.__('Sign in to AWS: %1', login.name ?? login.start_url),
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Cancel') })]
  });
  const tick = (): void => {
    const left = timeLeft(login.expires_at, Date.now());
    countdown.textContent =
      left === null
        ? ''
        : login.flow === 'pkce'
          ? trans.__('Sign-in expires in %1:%2', left.minutes, left.seconds)
          : trans.__('Code expires in %1:%2', left.minutes, left.seconds);
  };
  tick();
  const ticker = window.setInterval(tick, 1000);
  const follower = new LoginFollower(trans, login, watch, () =>
    dialog.resolve()
  );
  body.node.dataset.watch = follower.pushing ? 'push' : 'poll';
  try {
    await dialog.launch();
  } finally {
    window.clearInterval(ticker);
    follower.dispose();
  }
  if (follower.finished) {
    return follower.latest;
  }
  // Closed by Cancel or Escape while pending: stop the sign-in in the server.
  try {
    return await cancelLogin(login.id);
  } catch (error) {
    return {
      ...follower.latest,
      state: 'failed',
      message: describeError(error)
    };
  }
}
