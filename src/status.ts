/**
 * The sign-in status as this tab knows it, and the status-bar item that shows it.
 *
 * The status is read once at start and then again only when the server says it changed:
 * the server extension watches the token cache and the AWS config file and emits an event
 * on jupyter_server's event bus (`STATUS_SCHEMA_ID`) for a change made by any process (a
 * kernel, a terminal's `aws sso login`, another tab) and when a token reaches its expiry.
 * An idle tab thus asks our routes nothing. Only where the bus is missing (an old server,
 * no watcher) does a slow `Poll` read it.
 */
import { ServiceManager, Event } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { ISession, IStatus, getStatus } from './api';
import { clock, describeError, element } from './dom';
import { SIGNED_IN, summarize } from './format';

export { SIGNED_IN };

/** The id of the server's status events (ssooidc_jupyter/server/event_schemas). */
export const STATUS_SCHEMA_ID = 'https://ssooidc-jupyter.org/events/status/v1';

/** Where the server pushes nothing: read the status this often (a fallback only). */
const FALLBACK_POLL_MS = 60_000;

/** The status of this tab: read on start and on every pushed change. */
export class StatusModel {
  constructor(private readonly _manager: ServiceManager.IManager) {
    this._manager.events?.stream.connect(this._onEvent, this);
  }

  get status(): IStatus | null {
    return this._status;
  }

  /** Why the server could not be read the last time, or null. */
  get problem(): string | null {
    return this._problem;
  }

  /** Emitted after each read, changed or not. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted for every status change the server pushes (a sign-in that started or
   * ended among them): the code dialog reads its sign-in then, instead of polling. */
  get pushed(): ISignal<this, void> {
    return this._pushed;
  }

  /** Whether the server pushes status changes to this tab (else both the status and the
   * code dialog poll). */
  get pushing(): boolean {
    return Boolean(this._manager.events) && Boolean(this._status?.events);
  }

  /** How many times the status was read (the browser tests and benchmarks read it). */
  get reads(): number {
    return this._reads;
  }

  /** Read the status now (coalesced: one request in flight at a time). */
  async refresh(): Promise<IStatus | null> {
    if (this._inFlight) {
      this._again = true;
      return this._inFlight;
    }
    this._inFlight = this._read();
    try {
      return await this._inFlight;
    } finally {
      this._inFlight = null;
      if (this._again) {
        this._again = false;
        void this.refresh();
      }
    }
  }

  private async _read(): Promise<IStatus | null> {
    this._reads += 1;
    try {
      this._status = await getStatus();
      this._problem = null;
    } catch (error) {
      this._problem = describeError(error);
    }
    this._fallback();
    this._changed.emit();
    return this._status;
  }

  /** A slow poll where the server does not push (no event bus, or no watcher). */
  private _fallback(): void {
    if (this.pushing || this._poll || !this._status) {
      return;
    }
    this._poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: FALLBACK_POLL_MS, backoff: false },
      standby: 'when-hidden',
      name: 'ssooidc:status'
    });
  }

  private _onEvent(_: unknown, emission: Event.Emission): void {
    if (emission.schema_id === STATUS_SCHEMA_ID) {
      this._pushed.emit();
      void this.refresh();
    }
  }

  private _status: IStatus | null = null;
  private _problem: string | null = null;
  private _changed = new Signal<this, void>(this);
  private _pushed = new Signal<this, void>(this);
  private _inFlight: Promise<IStatus | null> | null = null;
  private _again = false;
  private _reads = 0;
  private _poll: Poll | null = null;
}

/** The entries some process is signing in to, waiting for approval. */
export function pendingSessions(status: IStatus | null): ISession[] {
  return (status?.sessions ?? []).filter(s => s.pending);
}

/** The status-bar item: "AWS: signed in to dev until 14:05" or "AWS: sign in". */
export class StatusItem extends Widget {
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

  show_(status: IStatus | null, problem?: string | null): void {
    const trans = this._trans;
    const node = this.node;
    const { state, session: signedIn } = summarize(status, problem);
    let text: string;
    if (state === 'unreachable') {
      // Not the last state seen: the server cannot say what it is now.
      text = trans.__('AWS: server unreachable');
    } else if (signedIn) {
      text = trans.__(
        'AWS: signed in to %1 until %2',
        signedIn.name,
        clock(signedIn.expires_at)
      );
    } else if (state === 'pending') {
      text = trans.__('AWS: signing in…');
    } else {
      text = trans.__('AWS: sign in');
    }
    node.textContent = text;
    node.dataset.state = state;
    node.title = problem
      ? trans.__('The Jupyter server does not answer: %1', problem)
      : signedIn
        ? trans.__(
            'Signed in to AWS IAM Identity Center. Click to sign in again or sign out.'
          )
        : trans.__('Sign in to AWS IAM Identity Center');
    node.setAttribute('aria-label', node.title);
  }
}
