// The renderer's entry: Vue + Pinia. Talks to the app only through api/studio.ts.

import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './style.css';

createApp(App).use(createPinia()).mount('#app');
