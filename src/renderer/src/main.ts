// The renderer's entry. The inspector UI (Vue) arrives with the app issue; for now the window
// lists the presets the engine offers, built from the engine itself.

import { Model } from '../../engine/model';
import { PRESETS } from '../../engine/presets';

const root = document.getElementById('app')!;
const title = document.createElement('h1');
title.textContent = 'LeNet Studio';
root.append(title);
const list = document.createElement('ul');
for (const p of Object.values(PRESETS)) {
  const m = new Model(p.spec);
  const li = document.createElement('li');
  li.textContent = `${p.name}: ${p.description} — ${m.parameterCount.toLocaleString('en-US')} parameters`;
  list.append(li);
}
root.append(list);
