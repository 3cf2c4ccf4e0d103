/** Small helpers shared by the status item and the dialogs. */
import { ServerConnection } from '@jupyterlab/services';

/** "14:05" in the user's local time. */
export function clock(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  return new Date(iso).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false
  });
}

/** The whole message of a failure: the server's says what went wrong and what to do. */
export function describeError(error: unknown): string {
  if (error instanceof ServerConnection.NetworkError) {
    return 'The Jupyter server does not answer (is it running?).';
  }
  return error instanceof Error ? error.message : String(error);
}

export function element<K extends keyof HTMLElementTagNameMap>(
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
