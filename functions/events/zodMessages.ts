/**
 * English messages for zod/mini, the tree-shakable flavour of zod the Lambda handlers parse with:
 * a bundle keeps only the validators its schemas use (about 30 KB, where `zod` costs 95–180 KB).
 * Unlike `zod`, zod/mini registers no messages of its own ("Invalid input" for everything), so
 * every module that defines zod/mini schemas imports this one for its effect, and a rejected event
 * names what was expected, in the words `zod` uses.
 *
 * Why not re-export `z` from here: a namespace passed on as a value can no longer be trimmed by the
 * bundler, which would then keep all of zod/mini, its JSON Schema code and 40 locales.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());
