// The live page (`gradpipe serve`): the server sends new chart data as it reads the logs, and problems in words.
import { byId } from './dom.js';

/** Listens on `./events`; `onData` gets each update's JSON text. */
export function followLive(onData: (json: string) => void): void {
  const badge = byId('live');
  const problem = byId('problem');
  const source = new EventSource('events');
  source.addEventListener('open', () => {
    badge.className = 'live';
    badge.textContent = 'live';
  });
  source.addEventListener('error', () => {
    badge.className = 'live off';
    badge.textContent = 'reconnecting…';
  });
  source.addEventListener('data', (e) => onData((e as MessageEvent<string>).data));
  source.addEventListener('problem', (e) => {
    problem.hidden = false;
    problem.textContent = (e as MessageEvent<string>).data;
  });
}
