/**
 * The dialogs: the chooser (every sign-in of the AWS config, what is wrong with a broken
 * one, a sign-in waiting elsewhere), the code / PKCE dialog, and failures shown whole with
 * "Try again" (never only a notification that goes to the bell).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Poll } from '@lumino/polling';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import {
  ILogin,
  ISession,
  IStatus,
  cancelLogin,
  cancelPending,
  errorStatus,
  getLogin,
  safeLink
} from './api';
import { clock, describeError, element } from './dom';
import { SIGNED_IN, timeLeft } from './format';

/** Where the server does not push: how often a pending sign-in is asked for its state
 * (the code is approved elsewhere). */
const LOGIN_POLL_MS = 500;
/** Where it pushes (a sign-in's start and end are pushed): a slow read, only to notice a
 * server that restarted and forgot the sign-in, which no push would tell. */
const LOST_CHECK_MS = 30_000;
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
}

export type Action = 'login' | 'logout';

export interface IChoice {
  session: ISession;
  action: Action;
}

function stateLabel(trans: TranslationBundle, session: ISession): string {
  if (session.error) {
    return trans.__('cannot sign in: the entry needs fixing');
  }
  switch (session.state) {
    case 'signed_in':
      return trans.__('signed in until %1', clock(session.expires_at));
    case 'expiring':
      return trans.__('expiring at %1', clock(session.expires_at));
    case 'expired':
      return trans.__('expired');
    default:
      return trans.__('signed out');
  }
}

/** Where a sign-in was started, as the sentence says it (the kernel's own wording). */
function originPhrase(trans: TranslationBundle, origin: string): string {
  switch (origin) {
    case 'status bar':
      return trans.__('the status bar');
    case 'kernel':
      return trans.__('a kernel');
    case 'script':
      return trans.__('a script');
    default:
      return origin;
  }
}

/** "A sign-in to dev is waiting for approval, started from a kernel at 14:02: …". */
function pendingElsewhere(
  trans: TranslationBundle,
  session: ISession,
  onCancelled: () => void
): HTMLElement | null {
  const pending = session.pending;
  if (!pending || pending.here) {
    return null;
  }
  const box = element('div', 'ssooidc-pending-elsewhere');
  box.dataset.name = session.name;
  const started = trans.__(
    'A sign-in to %1 is waiting for approval, started from %2 at %3',
    session.name,
    originPhrase(trans, pending.origin),
    clock(pending.started_at)
  );
  const href = safeLink(pending.verification_uri);
  const text = element('p', 'ssooidc-pending-text');
  if (pending.user_code && href) {
    text.append(started + trans.__(': approve code '));
    text.appendChild(
      element('code', 'ssooidc-pending-code', pending.user_code)
    );
    text.append(trans.__(' at '));
    const link = element('a', 'ssooidc-link', pending.verification_uri ?? href);
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    text.appendChild(link);
    text.append(trans.__(', or cancel it.'));
  } else {
    text.textContent =
      started +
      trans.__(
        ': approve it in the browser tab that sign-in opened, or cancel it.'
      );
  }
  box.appendChild(text);
  const cancel = element(
    'button',
    'ssooidc-pending-cancel jp-mod-styled jp-mod-warn',
    trans.__('Cancel that sign-in')
  );
  cancel.type = 'button';
  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await cancelPending(pending.key);
      text.textContent = trans.__('Cancelled.');
      cancel.remove();
      onCancelled();
    } catch (error) {
      cancel.disabled = false;
      box.appendChild(element('p', 'ssooidc-error', describeError(error)));
    }
  });
  box.appendChild(cancel);
  return box;
}

/** The chooser: one entry per sign-in of the AWS config. A signed-in entry offers "Sign in
 * again" and "Sign out"; a broken one says what is wrong with it and how to fix it. */
export async function chooseSession(
  trans: TranslationBundle,
  title: string,
  status: IStatus,
  sessions: ISession[],
  onChanged: () => void = () => undefined,
  primary: Action = 'login'
): Promise<IChoice | null> {
  let chosen: IChoice | null = null;
  const body = new Widget({ node: element('div', 'ssooidc-dialog') });
  for (const problem of status.setup_errors ?? []) {
    body.node.appendChild(
      element('p', 'ssooidc-error ssooidc-setup-error', problem)
    );
  }
  const list = element('ul', 'ssooidc-choices');
  body.node.appendChild(list);
  const dialog = new Dialog<unknown>({
    title,
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Close') })]
  });
  const choose = (session: ISession, action: Action): void => {
    chosen = { session, action };
    dialog.resolve();
  };
  for (const session of sessions) {
    const item = element('li', 'ssooidc-choice');
    item.dataset.name = session.name;
    const button = element('button', 'ssooidc-choice-button jp-mod-styled');
    button.type = 'button';
    button.dataset.name = session.name;
    button.appendChild(element('span', 'ssooidc-choice-name', session.name));
    if (status.default && session.name === status.default) {
      button.dataset.default = 'true';
      button.appendChild(
        element('span', 'ssooidc-choice-default', trans.__('default'))
      );
    }
    const detail = [session.start_url, session.region]
      .filter(Boolean)
      .join(' · ');
    button.appendChild(element('span', 'ssooidc-choice-detail', detail));
    button.appendChild(
      element(
        'span',
        `ssooidc-choice-state ssooidc-state-${session.error ? 'error' : session.state}`,
        stateLabel(trans, session)
      )
    );
    if (session.profiles.length > 0 && session.kind === 'sso-session') {
      button.appendChild(
        element(
          'span',
          'ssooidc-choice-detail',
          trans.__('profiles: %1', session.profiles.join(', '))
        )
      );
    }
    item.appendChild(button);
    const signedIn =
      SIGNED_IN.has(session.state) || session.state === 'expired';
    if (session.error) {
      // Nothing to sign in to: what is wrong and how to fix it, in the dialog itself.
      button.disabled = true;
      item.appendChild(
        element('p', 'ssooidc-error ssooidc-entry-error', session.error)
      );
    } else if (signedIn && primary === 'login') {
      button.title = trans.__('Sign in to %1 again', session.name);
      const actions = element('div', 'ssooidc-choice-actions');
      const again = element(
        'button',
        'ssooidc-choice-login jp-mod-styled jp-mod-accept',
        trans.__('Sign in again')
      );
      const out = element(
        'button',
        'ssooidc-choice-logout jp-mod-styled jp-mod-reject',
        trans.__('Sign out')
      );
      again.type = out.type = 'button';
      again.addEventListener('click', () => choose(session, 'login'));
      out.addEventListener('click', () => choose(session, 'logout'));
      actions.append(again, out);
      item.appendChild(actions);
    }
    button.addEventListener('click', () => choose(session, primary));
    const waiting = pendingElsewhere(trans, session, onChanged);
    if (waiting) {
      item.appendChild(waiting);
    }
    list.appendChild(item);
  }
  await dialog.launch();
  return chosen;
}

/** A failure, whole (what went wrong and what to do), until the user closes it. Resolves
 * true for "Try again". */
export async function showFailure(
  trans: TranslationBundle,
  title: string,
  message: string,
  retry = true
): Promise<boolean> {
  const body = new Widget({ node: element('div', 'ssooidc-dialog') });
  body.node.appendChild(element('p', 'ssooidc-error ssooidc-failure', message));
  const buttons = [Dialog.cancelButton({ label: trans.__('Close') })];
  if (retry) {
    buttons.push(Dialog.okButton({ label: trans.__('Try again') }));
  }
  const result = await showDialog({ title, body, buttons });
  return retry && result.button.accept;
}

/** The code dialog (device flow: the code, Copy, the link) or the PKCE dialog (a button
 * to the AWS sign-in page, no code); a countdown and Cancel in both. */
export async function showCode(
  trans: TranslationBundle,
  login: ILogin,
  watch: ILoginWatch
): Promise<ILogin> {
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

  const dialog = new Dialog<unknown>({
    title: trans.__('Sign in to AWS: %1', login.name ?? login.start_url),
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Cancel') })]
  });

  let latest = login;
  let finished = false;
  let failingSince: number | null = null;
  const tick = (): void => {
    const left = timeLeft(login.expires_at, Date.now());
    countdown.textContent =
      left === null
        ? ''
        : pkce
          ? trans.__('Sign-in expires in %1:%2', left.minutes, left.seconds)
          : trans.__('Code expires in %1:%2', left.minutes, left.seconds);
  };
  tick();
  const ticker = window.setInterval(tick, 1000);
  // Read the sign-in once: resolve the dialog when it ended (or the server lost it).
  const check = async (): Promise<void> => {
    if (finished) {
      return;
    }
    try {
      latest = await getLogin(login.id);
      failingSince = null;
    } catch (error) {
      failingSince = failingSince ?? Date.now();
      const gone = LOST_STATUSES.has(errorStatus(error) ?? 0);
      if ((gone || Date.now() - failingSince >= LOST_AFTER_MS) && !finished) {
        // The server restarted (it forgot the sign-in) or is down: stop reading.
        finished = true;
        latest = {
          ...latest,
          state: 'lost',
          message: trans.__(
            'The sign-in was lost: the Jupyter server restarted or stopped while it was pending. Start it again.'
          )
        };
        dialog.resolve();
      }
      return; // else a blip: the next read tries again; Cancel still works
    }
    if (latest.state !== 'pending' && !finished) {
      finished = true;
      dialog.resolve();
    }
  };
  // Pushed: read at each push (the server pushes when a sign-in ends), once now (it may
  // have ended before this dialog listened) and rarely after. Not pushed: poll.
  const onPush = (): void => void check();
  const pushing = watch.pushing;
  if (pushing) {
    watch.pushed.connect(onPush);
  }
  // Only while this dialog is open (a sign-in in progress), never when idle.
  const poll = new Poll({
    factory: check,
    frequency: {
      interval: pushing ? LOST_CHECK_MS : LOGIN_POLL_MS,
      backoff: false
    },
    standby: 'never',
    name: 'ssooidc:login'
  });
  node.dataset.watch = pushing ? 'push' : 'poll';
  try {
    await dialog.launch();
  } finally {
    window.clearInterval(ticker);
    watch.pushed.disconnect(onPush);
    poll.dispose();
  }
  if (!finished) {
    // Closed by Cancel or Escape while pending: stop the sign-in in the server.
    try {
      latest = await cancelLogin(login.id);
    } catch (error) {
      latest = { ...latest, state: 'failed', message: describeError(error) };
    }
  }
  return latest;
}
