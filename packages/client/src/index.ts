export * from './claims';
export * from './verify';
