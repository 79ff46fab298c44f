export * from './alert-stream';
export * from './claims';
export * from './client';
export * from './store';
export * from './verify';
