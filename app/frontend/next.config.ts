import type { NextConfig } from 'next';

// The image's version (APP_VERSION, set by the Dockerfile before `next build`) on every answer,
// as the backend does: the release tooling counts which version served each request.
const version = process.env.APP_VERSION ?? process.env.npm_package_version ?? '0.0.0';

const nextConfig: NextConfig = {
  output: 'standalone',
  poweredByHeader: false,
  async headers() {
    return [{ source: '/:path*', headers: [{ key: 'X-App-Version', value: version }] }];
  },
};

export default nextConfig;
