/**
 * Sign in to AWS IAM Identity Center from JupyterLab and Notebook 7.
 *
 * A status-bar item shows the sign-in state of the AWS config's sso-sessions (polling the
 * server extension's status route, so a kernel's or a terminal's sign-in shows up too);
 * clicking it, or the commands `ssooidc:login` / `ssooidc:logout`, signs in or out in the
 * Jupyter server process, which writes the shared AWS token cache.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import {
  ApiError,
  ILogin,
  ISession,
  IStatus,
  cancelLogin,
  getLogin,
  getStatus,
  logout,
  safeLink,
  startLogin
} from './api';

const PLUGIN_ID = 'ssooidc-jupyter:plugin';

/** The command ids (part of the contract: other extensions and tests call them). */
export namespace CommandIDs {
  export const login = 'ssooidc:login';
  export const logout = 'ssooidc:logout';
}

/** How often the status is read again: a kernel or a terminal may sign in any time. */
const STATUS_POLL_MS = 5000;
/** How often a pending sign-in is asked for its state (the code is approved elsewhere). */
const LOGIN_POLL_MS = 500;
/** Answers that mean the server no longer has the sign-in: 404 (it restarted and forgot
 * it) and 424 (JupyterHub: the user's server is not running). */
const LOST_STATUSES = new Set([404, 424]);
/** Failed polls in a row (network errors, 5xx) after which the sign-in is given up: 10 s. */
const LOST_AFTER_FAILURES = 20;

const SIGNED_IN = new Set(['signed_in', 'expiring']);

function clock(iso: string | null): string {
  if (!iso) {
    return '';
  }
  return new Date(iso).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false
  });
}

function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** The status-bar item: "AWS: signed in to dev until 14:05" or "AWS: sign in". */
class StatusItem extends Widget {
  constructor(
    private readonly _trans: TranslationBundle,
    private readonly _onClick: () => void
  ) {
    super({
      node: element(
        'div',
        'ssooidc-status ssooidc-statusbar jp-StatusBar-TextItem'
      )
    });
    this.node.tabIndex = 0;
    this.node.setAttribute('role', 'button');
    this.node.addEventListener('click', () => this._onClick());
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this._onClick();
      }
    });
    this.show_(null);
  }

  show_(status: IStatus | null, problem?: string): void {
    const trans = this._trans;
    const node = this.node;
    const signedIn = status?.sessions.find(s => SIGNED_IN.has(s.state));
    let text: string;
    let state: string;
    if (problem) {
      // Not the last state seen: the server cannot say what it is now.
      text = trans.__('AWS: server unreachable');
      state = 'unreachable';
    } else if (signedIn) {
      text = trans.__(
        'AWS: signed in to %1 until %2',
        signedIn.name,
        clock(signedIn.expires_at)
      );
      state = signedIn.state;
    } else if (status && status.pending.length > 0) {
      text = trans.__('AWS: signing in…');
      state = 'pending';
    } else {
      text = trans.__('AWS: sign in');
      state = 'signed_out';
    }
    node.textContent = text;
    node.dataset.state = state;
    node.title = problem
      ? trans.__('The Jupyter server does not answer: %1', problem)
      : signedIn
        ? trans.__(
            'Signed in to AWS IAM Identity Center. Click to sign in again.'
          )
        : trans.__('Sign in to AWS IAM Identity Center');
    node.setAttribute('aria-label', node.title);
  }
}

/** The chooser: one button per sign-in of the AWS config. Resolves with the choice. */
async function chooseSession(
  trans: TranslationBundle,
  title: string,
  sessions: ISession[],
  defaultName: string | null = null,
  setupErrors: string[] = []
): Promise<ISession | null> {
  let chosen: ISession | null = null;
  const body = new Widget({ node: element('div', 'ssooidc-dialog') });
  for (const problem of setupErrors) {
    body.node.appendChild(
      element('p', 'ssooidc-error ssooidc-setup-error', problem)
    );
  }
  const list = element('ul', 'ssooidc-choices');
  body.node.appendChild(list);
  const dialog = new Dialog<unknown>({
    title,
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Cancel') })]
  });
  for (const session of sessions) {
    const item = element('li', 'ssooidc-choice');
    const button = element('button', 'ssooidc-choice-button jp-mod-styled');
    button.type = 'button';
    button.dataset.name = session.name;
    button.appendChild(element('span', 'ssooidc-choice-name', session.name));
    if (defaultName !== null && session.name === defaultName) {
      button.dataset.default = 'true';
      button.appendChild(
        element('span', 'ssooidc-choice-default', trans.__('default'))
      );
    }
    const detail = [session.start_url, session.region]
      .filter(Boolean)
      .join(' · ');
    button.appendChild(element('span', 'ssooidc-choice-detail', detail));
    const state = element(
      'span',
      `ssooidc-choice-state ssooidc-state-${session.state}`,
      stateLabel(trans, session)
    );
    button.appendChild(state);
    if (session.profiles.length > 0 && session.kind === 'sso-session') {
      button.appendChild(
        element(
          'span',
          'ssooidc-choice-detail',
          trans.__('profiles: %1', session.profiles.join(', '))
        )
      );
    }
    if (session.error) {
      button.disabled = true;
      button.title = session.error;
    }
    button.addEventListener('click', () => {
      chosen = session;
      dialog.resolve();
    });
    item.appendChild(button);
    list.appendChild(item);
  }
  await dialog.launch();
  return chosen;
}

function stateLabel(trans: TranslationBundle, session: ISession): string {
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

/** The code dialog: the code, a copy button, the link, a countdown, Cancel. */
async function showCode(
  trans: TranslationBundle,
  login: ILogin
): Promise<ILogin> {
  const body = new Widget({
    node: element('div', 'ssooidc-dialog ssooidc-code-dialog')
  });
  const node = body.node;
  const pkce = login.flow === 'pkce';
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
  let failures = 0;
  const expires = login.expires_at ? Date.parse(login.expires_at) : NaN;
  const tick = (): void => {
    if (isNaN(expires)) {
      countdown.textContent = '';
      return;
    }
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, '0');
    countdown.textContent = pkce
      ? trans.__('Sign-in expires in %1:%2', minutes, seconds)
      : trans.__('Code expires in %1:%2', minutes, seconds);
  };
  tick();
  const ticker = window.setInterval(tick, 1000);
  const poller = window.setInterval(async () => {
    try {
      latest = await getLogin(login.id);
      failures = 0;
    } catch (error) {
      failures += 1;
      const gone = error instanceof ApiError && LOST_STATUSES.has(error.status);
      if ((gone || failures >= LOST_AFTER_FAILURES) && !finished) {
        // The server restarted (it forgot the sign-in) or is down: stop polling.
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
      return; // else a blip: the next poll tries again; Cancel still works
    }
    if (latest.state !== 'pending' && !finished) {
      finished = true;
      dialog.resolve();
    }
  }, LOGIN_POLL_MS);
  try {
    await dialog.launch();
  } finally {
    window.clearInterval(ticker);
    window.clearInterval(poller);
  }
  if (!finished) {
    // Closed by Cancel or Escape while pending: stop the sign-in in the server.
    try {
      latest = await cancelLogin(login.id);
    } catch (error) {
      Notification.error(describeError(error));
    }
  }
  return latest;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Sign in to AWS IAM Identity Center from the status bar and the command palette.',
  autoStart: true,
  requires: [ITranslator],
  optional: [IStatusBar, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null
  ) => {
    const trans = translator.load('ssooidc_jupyter');
    const { commands } = app;
    let status: IStatus | null = null;

    const item = new StatusItem(trans, () => {
      void commands.execute(CommandIDs.login);
    });
    item.id = 'ssooidc-status';

    const refresh = async (): Promise<IStatus | null> => {
      try {
        status = await getStatus();
        item.show_(status);
      } catch (error) {
        item.show_(status, describeError(error));
      }
      return status;
    };

    commands.addCommand(CommandIDs.login, {
      label: trans.__('Sign in to AWS…'),
      caption: trans.__('Sign in to AWS IAM Identity Center'),
      execute: async () => {
        const current = await refresh();
        if (!current) {
          await showDialog({
            title: trans.__('AWS sign-in unavailable'),
            body: trans.__(
              'The ssooidc_jupyter server extension does not answer. Is it enabled? (jupyter server extension list)'
            ),
            buttons: [Dialog.okButton({ label: trans.__('OK') })]
          });
          return;
        }
        const setupErrors = current.setup_errors ?? [];
        if (current.sessions.length === 0) {
          const body = new Widget({ node: element('div', 'ssooidc-dialog') });
          for (const problem of setupErrors) {
            body.node.appendChild(
              element('p', 'ssooidc-error ssooidc-setup-error', problem)
            );
          }
          body.node.appendChild(
            element(
              'p',
              'ssooidc-instructions',
              current.config_error ??
                trans.__(
                  'No default sign-in is set and your AWS config file names no sso-session and no SSO profile. Ask your administrator to set SSOOIDC_START_URL and SSOOIDC_REGION, or add an [sso-session NAME] section to ~/.aws/config.'
                )
            )
          );
          await showDialog({
            title: trans.__('No AWS sign-in configured'),
            body,
            buttons: [Dialog.okButton({ label: trans.__('OK') })]
          });
          return;
        }
        const session = await chooseSession(
          trans,
          trans.__('Sign in to AWS'),
          current.sessions,
          current.default ?? null,
          setupErrors
        );
        if (!session) {
          return;
        }
        let login: ILogin;
        try {
          login = await startLogin(session.login);
        } catch (error) {
          Notification.error(
            trans.__('AWS sign-in failed: %1', describeError(error))
          );
          return;
        }
        if (
          login.state === 'pending' &&
          (login.user_code || login.flow === 'pkce')
        ) {
          login = await showCode(trans, login);
        }
        if (login.state === 'lost') {
          const body = new Widget({ node: element('div', 'ssooidc-dialog') });
          body.node.appendChild(
            element('p', 'ssooidc-lost', login.message ?? '')
          );
          const again = await showDialog({
            title: trans.__('AWS sign-in lost'),
            body,
            buttons: [
              Dialog.cancelButton({ label: trans.__('Close') }),
              Dialog.okButton({ label: trans.__('Start again') })
            ]
          });
          await refresh();
          if (again.button.accept) {
            await commands.execute(CommandIDs.login);
          }
          return;
        }
        await refresh();
        if (login.state === 'signed_in') {
          Notification.success(
            trans.__(
              'Signed in to %1 until %2',
              session.name,
              clock(login.signed_in_until)
            ),
            { autoClose: 3000 }
          );
        } else if (login.state !== 'cancelled' && login.state !== 'pending') {
          Notification.error(
            login.message ?? trans.__('AWS sign-in ended: %1', login.state)
          );
        }
      }
    });

    commands.addCommand(CommandIDs.logout, {
      label: trans.__('Sign out of AWS'),
      caption: trans.__(
        'End the AWS access portal session and remove the cached token'
      ),
      execute: async () => {
        const current = await refresh();
        const signedIn = (current?.sessions ?? []).filter(
          s => s.state !== 'signed_out'
        );
        if (signedIn.length === 0) {
          Notification.info(trans.__('Not signed in to AWS.'), {
            autoClose: 3000
          });
          return;
        }
        const session =
          signedIn.length === 1
            ? signedIn[0]
            : await chooseSession(trans, trans.__('Sign out of AWS'), signedIn);
        if (!session) {
          return;
        }
        try {
          const result = await logout(session.login);
          if (result.message) {
            Notification.warning(result.message);
          } else {
            Notification.success(trans.__('Signed out of %1', session.name), {
              autoClose: 3000
            });
          }
        } catch (error) {
          Notification.error(
            trans.__('AWS sign-out failed: %1', describeError(error))
          );
        }
        await refresh();
      }
    });

    if (palette) {
      const category = trans.__('AWS');
      palette.addItem({ command: CommandIDs.login, category });
      palette.addItem({ command: CommandIDs.logout, category });
    }

    if (statusBar) {
      statusBar.registerStatusItem(PLUGIN_ID, {
        item,
        align: 'left',
        rank: 900
      });
    } else {
      // Notebook 7 has no status bar: the item goes to the top bar instead.
      app.shell.add(item, 'top', { rank: 900 });
    }

    void refresh();
    window.setInterval(() => {
      if (!document.hidden) {
        void refresh();
      }
    }, STATUS_POLL_MS);
  }
};

export default plugin;
