"""Writes a standardise → linear → softmax classifier as an ONNX file, with no onnx package.

ONNX files are protocol buffers (onnx.proto); this graph needs only a handful of its fields,
so they are encoded by hand: varints and length-delimited fields. The standardisation (the
training mean and std) lives inside the graph, so every version carries its own and a
deployment never standardises with another version's figures.
"""
import struct


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number, wire, payload):
    return _varint(number << 3 | wire) + payload


def _int(number, n):
    return _field(number, 0, _varint(n))


def _bytes(number, data):
    if isinstance(data, str):
        data = data.encode()
    return _field(number, 2, _varint(len(data)) + data)


def _tensor(name, dims, values):
    """A float32 initializer (TensorProto: dims 1, data_type 2 = FLOAT, name 8, raw_data 9)."""
    raw = struct.pack('<%df' % len(values), *values)
    return b''.join(_int(1, d) for d in dims) + _int(2, 1) + _bytes(8, name) + _bytes(9, raw)


def _value_info(name, dims):
    """A float32 tensor input/output; a string dim is symbolic (the batch)."""
    shape = b''.join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    tensor_type = _int(1, 1) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def _node(op, inputs, outputs, axis=None):
    attr = b''
    if axis is not None:  # AttributeProto: name 1, i 3, type 20 (INT = 2)
        attr = _bytes(5, _bytes(1, 'axis') + _int(3, axis) + _int(20, 2))
    return b''.join(_bytes(1, i) for i in inputs) + b''.join(_bytes(2, o) for o in outputs) + _bytes(3, outputs[0]) + _bytes(4, op) + attr


def linear_classifier(path, mean, std, weights, bias):
    """input float32 [batch, n] → probabilities float32 [batch, k]; weights is n rows of k."""
    n, k = len(mean), len(bias)
    nodes = [
        _node('Sub', ['input', 'mean'], ['centred']),
        _node('Div', ['centred', 'std'], ['scaled']),
        _node('MatMul', ['scaled', 'weights'], ['scores']),
        _node('Add', ['scores', 'bias'], ['logits']),
        _node('Softmax', ['logits'], ['probabilities'], axis=1),
    ]
    inits = [
        _tensor('mean', [n], mean), _tensor('std', [n], std),
        _tensor('weights', [n, k], [w for row in weights for w in row]), _tensor('bias', [k], bias),
    ]
    graph = (b''.join(_bytes(1, x) for x in nodes) + _bytes(2, 'linear_classifier') + b''.join(_bytes(5, t) for t in inits)
             + _bytes(11, _value_info('input', ['batch', n])) + _bytes(12, _value_info('probabilities', ['batch', k])))
    model = _int(1, 8) + _bytes(2, 'mlops-examples') + _bytes(7, graph) + _bytes(8, _bytes(1, '') + _int(2, 13))
    with open(path, 'wb') as f:
        f.write(model)
