/**
 * Sign in to AWS IAM Identity Center from JupyterLab and Notebook 7.
 *
 * A status-bar item shows the sign-in state of the AWS config's sso-sessions; the server
 * pushes every change (a kernel's or a terminal's sign-in too) on the event bus, see
 * ./status.ts. Clicking it, or the commands `ssooidc:login` / `ssooidc:logout`, signs in or
 * out in the Jupyter server process, which writes the shared AWS token cache.
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

import { ILogin, ISession, IStatus, logout, startLogin } from './api';
import { showCode } from './codedialog';
import { chooseSession, showFailure } from './dialogs';
import { clock, describeError, element } from './dom';
import { endsSoon } from './format';
import { StatusItem, StatusModel } from './status';

const PLUGIN_ID = 'ssooidc-jupyter:plugin';

/** The command ids (part of the contract: other extensions and tests call them). */
export namespace CommandIDs {
  export const login = 'ssooidc:login';
  export const logout = 'ssooidc:logout';
}

/** The dialog when the config names nothing to sign in to, or cannot be read. */
async function nothingToChoose(
  trans: TranslationBundle,
  current: IStatus
): Promise<void> {
  const body = new Widget({ node: element('div', 'ssooidc-dialog') });
  for (const problem of current.setup_errors ?? []) {
    body.node.appendChild(
      element('p', 'ssooidc-error ssooidc-setup-error', problem)
    );
  }
  body.node.appendChild(
    element(
      'p',
      current.config_error
        ? 'ssooidc-error ssooidc-config-error'
        : 'ssooidc-instructions',
      current.config_error ??
        trans.__(
          'No default sign-in is set and your AWS config file names no sso-session and no SSO profile. Ask your administrator to set SSOOIDC_START_URL and SSOOIDC_REGION, or add an [sso-session NAME] section to ~/.aws/config.'
        )
    )
  );
  await showDialog({
    title: current.config_error
      ? trans.__('The AWS config file cannot be read')
      : trans.__('No AWS sign-in configured'),
    body,
    buttons: [Dialog.okButton({ label: trans.__('OK') })]
  });
}

/** Warns once per sign-in shortly before its session ends (a refresh cannot extend it),
 * with "Sign in again"; the server pushes a status change at that moment. */
class SessionEndNotice {
  constructor(
    private readonly _trans: TranslationBundle,
    private readonly _signIn: (name: string) => void
  ) {}

  update(status: IStatus | null): void {
    const now = Date.now();
    for (const session of status?.sessions ?? []) {
      const key = `${session.name} ${session.session_ends_at}`;
      const soon = endsSoon(session, now, NOTICE_MS);
      const shown = this._shown.get(session.name);
      if (shown && shown.key !== key) {
        Notification.dismiss(shown.id);
        this._shown.delete(session.name);
      }
      if (soon && !this._shown.has(session.name)) {
        const id = Notification.warning(
          this._trans.__(
            'Your AWS sign-in to %1 ends at %2 and cannot be extended: sign in again to keep working.',
            session.name,
            clock(session.session_ends_at)
          ),
          {
            autoClose: false,
            actions: [
              {
                label: this._trans.__('Sign in again'),
                callback: () => this._signIn(session.name)
              }
            ]
          }
        );
        this._shown.set(session.name, { key, id });
      }
    }
  }

  private _shown = new Map<string, { key: string; id: string }>();
}

/** As the server's SESSION_END_NOTICE (server/_status.py): 10 minutes. */
const NOTICE_MS = 10 * 60 * 1000;

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
    const model = new StatusModel(app.serviceManager);
    const item = new StatusItem(trans, () => {
      void commands.execute(CommandIDs.login);
    });
    item.id = 'ssooidc-status';
    const notice = new SessionEndNotice(trans, name => {
      void commands.execute(CommandIDs.login, { name });
    });
    model.changed.connect(() => {
      item.show_(model.status, model.problem);
      notice.update(model.status);
    });
    // For the browser tests and the benchmarks: how many times this tab read the status.
    item.node.dataset.reads = '0';
    model.changed.connect(() => {
      item.node.dataset.reads = String(model.reads);
    });

    const signIn = async (session: ISession): Promise<void> => {
      let login: ILogin;
      try {
        login = await startLogin(session.login);
      } catch (error) {
        if (
          await showFailure(
            trans,
            trans.__('AWS sign-in to %1 failed', session.name),
            describeError(error)
          )
        ) {
          await signIn(session);
        }
        return;
      }
      if (
        login.state === 'pending' &&
        (login.user_code || login.flow === 'pkce')
      ) {
        login = await showCode(trans, login, model);
      }
      await model.refresh();
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
        await model.refresh();
        if (again.button.accept) {
          await commands.execute(CommandIDs.login);
        }
        return;
      }
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
        // Denied, expired, failed: the whole message, until the user closes it.
        const title =
          login.state === 'denied'
            ? trans.__('AWS sign-in to %1 was denied', session.name)
            : login.state === 'expired'
              ? trans.__('AWS sign-in to %1 expired', session.name)
              : trans.__('AWS sign-in to %1 failed', session.name);
        const message =
          login.message ?? trans.__('The sign-in ended: %1', login.state);
        if (await showFailure(trans, title, message)) {
          await signIn(session);
        }
      }
    };

    const signOut = async (session: ISession): Promise<void> => {
      try {
        const result = await logout(session.login);
        if (result.message) {
          // Signed out here, but the portal Logout failed: say so, and let it stay.
          Notification.warning(result.message, { autoClose: false });
        } else {
          Notification.success(trans.__('Signed out of %1', session.name), {
            autoClose: 3000
          });
        }
      } catch (error) {
        if (
          await showFailure(
            trans,
            trans.__('AWS sign-out of %1 failed', session.name),
            describeError(error)
          )
        ) {
          await signOut(session);
        }
      }
      await model.refresh();
    };

    commands.addCommand(CommandIDs.login, {
      label: trans.__('Sign in to AWS…'),
      caption: trans.__('Sign in to AWS IAM Identity Center'),
      execute: async args => {
        const current = await model.refresh();
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
        if (current.sessions.length === 0) {
          await nothingToChoose(trans, current);
          return;
        }
        const named = current.sessions.find(s => s.name === args?.name);
        const choice = named
          ? { session: named, action: 'login' as const }
          : await chooseSession(
              trans,
              trans.__('Sign in to AWS'),
              current,
              current.sessions,
              () => void model.refresh()
            );
        if (!choice) {
          return;
        }
        if (choice.action === 'logout') {
          await signOut(choice.session);
        } else {
          await signIn(choice.session);
        }
      }
    });

    commands.addCommand(CommandIDs.logout, {
      label: trans.__('Sign out of AWS'),
      caption: trans.__(
        'End the AWS access portal session and remove the cached token'
      ),
      execute: async () => {
        const current = await model.refresh();
        const signedIn = (current?.sessions ?? []).filter(
          s => s.state !== 'signed_out'
        );
        if (!current || signedIn.length === 0) {
          Notification.info(trans.__('Not signed in to AWS.'), {
            autoClose: 3000
          });
          return;
        }
        const choice =
          signedIn.length === 1
            ? { session: signedIn[0], action: 'logout' as const }
            : await chooseSession(
                trans,
                trans.__('Sign out of AWS'),
                current,
                signedIn,
                () => void model.refresh(),
                'logout'
              );
        if (choice) {
          await signOut(choice.session);
        }
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

    void model.refresh();
  }
};

export default plugin;
