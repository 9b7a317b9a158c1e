// The demo host's Express app: security headers, CORS, JSON, its routes and the chat module's
// router, the built frontend, one error handler (in the module's error shape).
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import { AppError, errorBody, toAppError, type Logger, type TrustedProxy } from 'friend-chat/server';

export interface HttpOptions {
  corsOrigins: string[];
  /** Served to browsers over HTTPS only: HSTS and CSP upgrade-insecure-requests. */
  https: boolean;
  /** Extra CSP sources (config CSP_CONNECT_SRC, CSP_IMG_SRC). */
  cspConnectSrc: string[];
  cspImgSrc: string[];
  /** Express `trust proxy` (TRUST_PROXY): decides what `req.ip` is behind a reverse proxy. */
  trustProxy: boolean | number | string;
  publicRoutes: Router;
  /** The chat module's router (it authenticates through the host's `identify` itself). */
  chatRouter: Router;
  requireAuth: RequestHandler;
  privateRoutes: Router[];
  /** Directory of the built frontend; served with an SPA fallback when it exists. */
  staticDir?: string;
  logger: Logger;
}

/**
 * Express's own reading of a `trust proxy` value (TRUST_PROXY): the function of (address, hop)
 * behind `req.ip` and `req.host`. The chat module's socket handshake, which Express never sees,
 * gets the same function, so both count the same client address and read the same host.
 */
export function compileTrustProxy(value: HttpOptions['trustProxy']): TrustedProxy {
  return express().set('trust proxy', value).get('trust proxy fn') as TrustedProxy;
}

export function createHttpApp(opts: HttpOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          // naive-ui injects its styles at run time.
          styleSrc: ["'self'", "'unsafe-inline'"],
          // Avatar URLs on this origin or a configured one; data:/blob: for images made in the page.
          imgSrc: ["'self'", 'data:', 'blob:', ...opts.cspImgSrc],
          // 'self' includes ws:/wss: to the same host and port (CSP Level 3), i.e. the socket.
          connectSrc: ["'self'", ...opts.cspConnectSrc],
          // Over plain HTTP (a LAN address, a second device) this would send every asset
          // request to https://, where nothing answers, and leave the page blank.
          upgradeInsecureRequests: opts.https ? [] : null,
        },
      },
      // Browsers ignore HSTS over HTTP anyway; sent only where it means something.
      strictTransportSecurity: opts.https,
    }),
  );
  // Same origin by default; CORS_ORIGINS opens the API to the listed origins.
  if (opts.corsOrigins.length) app.use('/api', cors({ origin: opts.corsOrigins, credentials: true }));
  app.use('/api', express.json({ limit: '64kb' }));

  app.use('/api', opts.publicRoutes);
  app.use('/api', opts.chatRouter);
  app.use('/api', opts.requireAuth, ...opts.privateRoutes);
  app.use('/api', (_req, _res, next) => next(new AppError('NOT_FOUND', 'No such endpoint')));

  if (opts.staticDir && existsSync(path.join(opts.staticDir, 'index.html'))) {
    const dir = opts.staticDir;
    app.use(express.static(dir, { index: false, maxAge: '1h' }));
    app.get(/^\/(?!api\/|socket\.io\/).*/, (_req, res) => res.sendFile(path.join(dir, 'index.html')));
  }

  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const e = toAppError(err);
    if (e.code === 'INTERNAL') opts.logger.error(`${req.method} ${req.path}`, err);
    if (res.headersSent) return;
    if (e.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(e.retryAfterSeconds));
    res.status(e.status).json(errorBody(e));
  };
  app.use(onError);
  return app;
}
