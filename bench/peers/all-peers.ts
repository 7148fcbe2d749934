// The peers of `npm run bench:peers`, by id, in the order they run after ours.

import { ConvNetJsPeer } from './convnetjs-peer';
import { PEER_IDS, type Peer, type PeerId } from './peers';
import { TfjsPeer } from './tfjs-peer';
import { TorchPeer } from './torch-peer';

export function createPeer(id: PeerId): Peer {
  switch (id) {
    case 'tfjs-cpu':
    case 'tfjs-wasm':
      return new TfjsPeer(id);
    case 'convnetjs':
      return new ConvNetJsPeer();
    case 'pytorch':
      return new TorchPeer();
  }
}

export function createPeers(ids: readonly PeerId[] = PEER_IDS): Peer[] {
  return ids.map(createPeer);
}
