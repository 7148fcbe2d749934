import type { StudioApi } from './api';

declare global {
  interface Window {
    studio: StudioApi;
  }
}
