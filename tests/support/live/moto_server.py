"""The moto server of the live AWS tests (started by tests/support/live/moto.rs; test code only).

Usage: python moto_server.py PORT. It prints "ready" once it listens on 127.0.0.1:PORT and runs
until its standard input reaches end of file (the test process that started it has ended).

Two gaps of the pinned moto are closed here, so that the product's unchanged collector reads what
real AWS would answer (docs/development.md). Nothing here is used by the product.

1. rpc-v2-cbor. The AWS SDK for Rust speaks Smithy's rpc-v2-cbor protocol to CloudWatch
   (POST /service/<target>/operation/<Op>, CBOR bodies). Moto serves CloudWatch only in its query
   and JSON protocols, and answers the CBOR path with a 404 page. The bridge below decodes the CBOR request, hands moto the same operation as JSON
   (X-Amz-Target), and encodes moto's answer back as CBOR, shaped by botocore's model of the
   operation (timestamps become CBOR tag 1, numbers their modelled type). An answer that is not
   JSON (moto's HTML page for an operation it lacks) passes through untouched, as it would
   without the bridge.
2. ElastiCache cache clusters. Moto stores the security groups and the replication group's
   at-rest encryption but leaves both out of DescribeCacheClusters, where AWS reports them
   (SecurityGroups, AtRestEncryptionEnabled).
3. Lambda ListFunctionUrlConfigs. Moto stores a function's URL configuration but does not
   serve the listing the collector reads (GET .../functions/<name>/urls answers with an HTML
   404). The listing below answers from what moto stores (the function's own URL; moto keeps
   no alias URLs).
"""

import base64
import io
import json
import os
import re
import struct
import sys
import threading
from datetime import datetime

import botocore.session
from urllib.parse import unquote

from moto.awslambda import urls as lambda_urls
from moto.awslambda.responses import LambdaResponse
from moto.elasticache.models import CacheCluster, ElastiCacheBackend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

# Smithy service target -> (botocore service name, JSON content type moto expects).
CBOR_SERVICES = {
    "GraniteServiceVersion20100801": ("cloudwatch", "application/x-amz-json-1.0"),
}
CBOR_PATH = re.compile(r"^/service/([A-Za-z0-9_]+)/operation/([A-Za-z0-9]+)$")


# ---------------------------------------------------------------------------------------------
# CBOR (RFC 8949), the subset Smithy uses: no bignums, tag 1 (epoch seconds) only.


class Timestamp(float):
    """Epoch seconds that encode as CBOR tag 1."""


_BREAK = object()


def cbor_decode(data):
    value, pos = _item(data, 0)
    if value is _BREAK or pos != len(data):
        raise ValueError("malformed CBOR")
    return value


def _argument(data, pos, info):
    if info < 24:
        return info, pos
    if info == 31:
        return None, pos  # indefinite length
    size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
    return int.from_bytes(data[pos : pos + size], "big"), pos + size


def _item(data, pos):
    initial = data[pos]
    pos += 1
    major, info = initial >> 5, initial & 31
    if major == 7:
        simple = {20: False, 21: True, 22: None, 23: None}
        if info in simple:
            return simple[info], pos
        if info in (25, 26, 27):
            fmt, size = {25: (">e", 2), 26: (">f", 4), 27: (">d", 8)}[info]
            return struct.unpack(fmt, data[pos : pos + size])[0], pos + size
        if info == 31:
            return _BREAK, pos
        raise ValueError(f"unsupported CBOR simple value {info}")
    n, pos = _argument(data, pos, info)
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major in (2, 3):
        if n is None:
            chunks = []
            while True:
                chunk, pos = _item(data, pos)
                if chunk is _BREAK:
                    break
                chunks.append(chunk)
            raw = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        else:
            raw, pos = bytes(data[pos : pos + n]), pos + n
        return (raw if major == 2 else raw.decode()), pos
    if major == 4:
        items = []
        while n is None or len(items) < n:
            value, pos = _item(data, pos)
            if value is _BREAK:
                break
            items.append(value)
        return items, pos
    if major == 5:
        entries = {}
        while n is None or len(entries) < n:
            key, pos = _item(data, pos)
            if key is _BREAK:
                break
            entries[key], pos = _item(data, pos)
        return entries, pos
    # major 6: a tag
    value, pos = _item(data, pos)
    return (Timestamp(value) if n == 1 else value), pos


def _head(out, major, n):
    if n < 24:
        out.append(major << 5 | n)
    elif n < 1 << 8:
        out += bytes([major << 5 | 24, n])
    elif n < 1 << 16:
        out.append(major << 5 | 25)
        out += n.to_bytes(2, "big")
    elif n < 1 << 32:
        out.append(major << 5 | 26)
        out += n.to_bytes(4, "big")
    else:
        out.append(major << 5 | 27)
        out += n.to_bytes(8, "big")


def cbor_encode(value, out=None):
    out = bytearray() if out is None else out
    if value is None:
        out.append(0xF6)
    elif value is True or value is False:
        out.append(0xF5 if value else 0xF4)
    elif isinstance(value, Timestamp):
        out.append(0xC1)
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, int):
        _head(out, 0, value) if value >= 0 else _head(out, 1, -1 - value)
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, bytes):
        _head(out, 2, len(value))
        out += value
    elif isinstance(value, str):
        raw = value.encode()
        _head(out, 3, len(raw))
        out += raw
    elif isinstance(value, list):
        _head(out, 4, len(value))
        for v in value:
            cbor_encode(v, out)
    elif isinstance(value, dict):
        _head(out, 5, len(value))
        for k, v in value.items():
            cbor_encode(k, out)
            cbor_encode(v, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as CBOR")
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# JSON protocol <-> CBOR values


def _to_json(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def _shaped(value, shape):
    """A JSON-protocol value as the CBOR protocol carries it, by the modelled shape."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _shaped(v, shape.members.get(k)) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_shaped(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _shaped(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):
            return Timestamp(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        return Timestamp(float(value))
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    return value


class CborBridge:
    """WSGI middleware: rpc-v2-cbor requests in, moto's JSON protocol behind."""

    def __init__(self, app):
        self.app = app
        self.session = botocore.session.get_session()
        self.models = {}
        self.lock = threading.Lock()

    def model(self, service):
        with self.lock:
            if service not in self.models:
                self.models[service] = self.session.get_service_model(service)
            return self.models[service]

    def __call__(self, environ, start_response):
        match = CBOR_PATH.match(environ.get("PATH_INFO", ""))
        if not match or match.group(1) not in CBOR_SERVICES:
            return self.app(environ, start_response)
        target, operation = match.groups()
        service, content_type = CBOR_SERVICES[target]
        length = environ.get("CONTENT_LENGTH")
        stream = environ["wsgi.input"]
        body = stream.read(int(length)) if length else stream.read()
        params = cbor_decode(body) if body else {}
        payload = json.dumps(_to_json(params)).encode()
        inner = dict(environ)
        inner.update(
            {
                "PATH_INFO": "/",
                "RAW_URI": "/",
                "REQUEST_URI": "/",
                "CONTENT_TYPE": content_type,
                "CONTENT_LENGTH": str(len(payload)),
                "HTTP_X_AMZ_TARGET": f"{target}.{operation}",
                "wsgi.input": io.BytesIO(payload),
            }
        )
        inner.pop("HTTP_TRANSFER_ENCODING", None)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        answer = b"".join(self.app(inner, capture))
        status, headers = captured["status"], captured["headers"]
        try:
            decoded = json.loads(answer) if answer else {}
        except ValueError:
            start_response(status, headers)
            return [answer]
        if int(status.split()[0]) < 300:
            shape = self.model(service).operation_model(operation).output_shape
            decoded = _shaped(decoded, shape)
        encoded = cbor_encode(decoded)
        kept = [
            (k, v)
            for k, v in headers
            if k.lower() in ("x-amzn-requestid", "x-amzn-query-error", "date")
        ]
        start_response(
            status,
            kept
            + [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("Content-Length", str(len(encoded))),
            ],
        )
        return [encoded]


# ---------------------------------------------------------------------------------------------
# ElastiCache: what DescribeCacheClusters leaves out

CacheCluster.security_groups = property(
    lambda self: [
        {"SecurityGroupId": g, "Status": "active"} for g in self.security_group_ids or []
    ]
)
_describe_cache_clusters = ElastiCacheBackend.describe_cache_clusters


def _describe_cache_clusters_with_encryption(self, cache_cluster_id=None):
    clusters = _describe_cache_clusters(self, cache_cluster_id)
    for cluster in clusters:
        group = self.replication_groups.get(getattr(cluster, "replication_group_id", None) or "")
        # A member cluster reports its replication group's setting; a lone cluster has none.
        cluster.at_rest_encryption_enabled = bool(group and group.at_rest_encryption_enabled)
    return clusters


ElastiCacheBackend.describe_cache_clusters = _describe_cache_clusters_with_encryption


# ---------------------------------------------------------------------------------------------
# Lambda: the URL listing moto lacks


def _list_function_url_configs(self):
    function_name = unquote(self.path.rstrip("/").split("/")[-2])
    fn = self.backend._lambdas.get_function_by_name_or_arn_forbid_qualifier(function_name)
    configs = [fn.url_config.to_dict()] if fn.url_config else []
    return 200, {"status": 200}, json.dumps({"FunctionUrlConfigs": configs})


LambdaResponse.list_function_url_configs = _list_function_url_configs
lambda_urls.url_paths[
    r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"
] = LambdaResponse.dispatch


def main():
    port = int(sys.argv[1])
    server = make_server(
        "127.0.0.1",
        port,
        CborBridge(DomainDispatcherApplication(create_backend_app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # EOF: the test process has ended
    os._exit(0)


if __name__ == "__main__":
    main()
