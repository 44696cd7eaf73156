#!/usr/bin/env node
// `npx steer53 …`: runs the TypeScript CLI through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('./steer53.ts');
