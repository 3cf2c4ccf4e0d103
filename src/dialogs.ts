/**
 * The dialogs: the chooser (every sign-in of the AWS config, what is wrong with a broken
 * one, a sign-in waiting elsewhere) and failures shown whole with "Try again" (never only a
 * notification that goes to the bell). The code / PKCE dialog is ./codedialog.ts.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { ISession, IStatus, cancelPending, safeLink } from './api';
import { clock, describeError, element } from './dom';
import { SIGNED_IN } from './format';

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
