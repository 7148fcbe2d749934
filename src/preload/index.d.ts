import type { StudioApi } from '@common/api';

declare global {
  interface Window {
    studio: StudioApi;
  }
}
