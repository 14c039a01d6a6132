/**
 * The page's DOM: the runs list, the run being followed (its timeline of states and its cards), errors and the
 * last request id. Text goes in through textContent only: a company name or a card title is never markup.
 */
import type { FollowRunSubscription, RunsQuery } from '../generated/graphql';

export type RunRow = RunsQuery['runs']['edges'][number]['node'];
export type FollowedRun = FollowRunSubscription['runUpdated'];

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export const FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED'];

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text: string, attributes: Record<string, string> = {}) {
  const node = document.createElement(tag);
  node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export const view = {
  showSignedOut() {
    byId('signed-out').hidden = false;
  },
  showApp(transport: string) {
    byId('app').hidden = false;
    byId('transport').textContent = transport === 'sse' ? 'SSE (one connection)' : 'WebSocket';
  },
  onStart(handler: (button: HTMLButtonElement) => void) {
    const button = byId<HTMLButtonElement>('start');
    button.addEventListener('click', () => handler(button));
  },
  /** The runs, newest first, each with a Cancel button while it may still change. */
  renderRuns(runs: Iterable<RunRow>, actions: { follow(id: string): void; cancel(id: string): void }) {
    const list = byId('runs');
    list.replaceChildren(
      ...[...runs]
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
        .map((run) => {
          const item = element('li', '', { 'data-run-id': run.id, 'data-status': run.status, 'data-stage': String(run.currentStage) });
          const label = element('a', `${run.companyName}: ${run.status} (stage ${run.currentStage} of 5)`, { href: `#run-${run.id}` });
          label.addEventListener('click', (event) => {
            event.preventDefault();
            actions.follow(run.id);
          });
          item.append(label);
          if (!FINISHED.includes(run.status)) {
            const cancel = element('button', 'Cancel', { type: 'button', 'data-action': 'cancel' });
            cancel.addEventListener('click', () => actions.cancel(run.id));
            item.append(cancel);
          }
          return item;
        }),
    );
  },
  startFollowing(id: string) {
    byId('followed').hidden = false;
    byId('followed-id').textContent = id;
    byId('followed-status').textContent = '…';
    byId('timeline').replaceChildren();
    byId('cards').replaceChildren();
  },
  /** One timeline entry per state received, and the cards once there are any. */
  renderFollowed(run: FollowedRun, star: (cardId: string, starred: boolean) => void) {
    const state = `${run.status} ${run.currentStage}`;
    byId('followed-status').textContent = run.errorMessage ? `${state}: ${run.errorMessage}` : state;
    byId('timeline').append(element('li', state));
    byId('cards').replaceChildren(
      ...[...run.opportunityCards]
        .sort((a, b) => a.number - b.number)
        .map((card) => {
          const item = element('li', `${card.number}. ${card.title} `, { 'data-card-id': card.id, 'data-starred': String(card.starred) });
          const button = element('button', card.starred ? '★ Starred' : '☆ Star', { type: 'button', 'data-action': 'star' });
          button.addEventListener('click', () => star(card.id, !card.starred));
          item.append(button);
          return item;
        }),
    );
  },
  showError(message: string) {
    byId('error').textContent = message;
  },
  showRequestId(requestId: string | null) {
    byId('request-id').textContent = requestId ?? '(not readable)';
  },
};
